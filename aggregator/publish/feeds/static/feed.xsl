<?xml version="1.0" encoding="UTF-8"?>
<!-- Shows an RSS 2.0 or Atom 1.0 feed of this folder as a page when a browser opens it
     (the feeds name it in an xml-stylesheet instruction; feed readers ignore it). Text is
     output as text: nothing of a feed becomes markup. -->
<xsl:stylesheet version="1.0"
    xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:atom="http://www.w3.org/2005/Atom"
    exclude-result-prefixes="atom">
  <xsl:output method="html" encoding="UTF-8" indent="no"
      doctype-system="about:legacy-compat"/>

  <xsl:variable name="self"
      select="(/rss/channel/atom:link[@rel='self'] | /atom:feed/atom:link[@rel='self'])[1]/@href"/>
  <xsl:variable name="stem">
    <xsl:call-template name="stem">
      <xsl:with-param name="path" select="string($self)"/>
    </xsl:call-template>
  </xsl:variable>

  <!-- the self link without its extension (".rss", ".atom") -->
  <xsl:template name="stem">
    <xsl:param name="path"/>
    <xsl:param name="done" select="''"/>
    <xsl:choose>
      <xsl:when test="contains($path, '.')">
        <xsl:call-template name="stem">
          <xsl:with-param name="path" select="substring-after($path, '.')"/>
          <xsl:with-param name="done"
              select="concat($done, substring-before($path, '.'), '.')"/>
        </xsl:call-template>
      </xsl:when>
      <xsl:otherwise><xsl:value-of select="substring($done, 1, string-length($done) - 1)"/></xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <xsl:template match="/">
    <xsl:variable name="title" select="string(/rss/channel/title | /atom:feed/atom:title)"/>
    <html lang="vi">
      <head>
        <meta charset="utf-8"/>
        <meta name="viewport" content="width=device-width, initial-scale=1"/>
        <title><xsl:value-of select="$title"/></title>
        <link rel="icon" href="data:,"/>
        <style>
          body{margin:0 auto;max-width:48rem;padding:0 1rem 2rem;color:#1b1b1b;background:#fff;
          font:1rem/1.5 system-ui,sans-serif;overflow-wrap:anywhere}
          a{color:#0b4f9c}header{border-bottom:2px solid #0b4f9c;margin-bottom:1rem}
          .note{background:#eef4fb;border-left:4px solid #0b4f9c;padding:.5rem .75rem}
          code{word-break:break-all}ol{list-style:none;padding:0}
          li{border-bottom:1px solid #d6d6d6;padding:.75rem 0}h2{font-size:1.05rem;margin:0 0 .25rem}
          .meta{margin:0;color:#4a4a4a;font-size:.875rem}p{margin:.35rem 0 0}
        </style>
      </head>
      <body>
        <header>
          <h1><xsl:value-of select="$title"/></h1>
          <p><xsl:value-of select="/rss/channel/description | /atom:feed/atom:subtitle"/></p>
          <p class="note">Đây là một nguồn tin (feed). Sao chép địa chỉ
            <code><xsl:value-of select="$self"/></code> vào trình đọc tin để nhận tin mới.
            Định dạng khác:
            <a href="{$stem}.rss">RSS</a> · <a href="{$stem}.atom">Atom</a> ·
            <a href="{$stem}.json">JSON Feed</a></p>
        </header>
        <main>
          <ol>
            <xsl:apply-templates select="/rss/channel/item | /atom:feed/atom:entry"/>
          </ol>
        </main>
      </body>
    </html>
  </xsl:template>

  <xsl:template match="item">
    <li>
      <h2><a href="{link}"><xsl:value-of select="title"/></a></h2>
      <p class="meta"><xsl:value-of select="source"/> · <xsl:value-of select="pubDate"/></p>
      <p><xsl:value-of select="description"/></p>
    </li>
  </xsl:template>

  <xsl:template match="atom:entry">
    <li>
      <h2><a href="{atom:link[@rel='alternate']/@href}"><xsl:value-of select="atom:title"/></a></h2>
      <p class="meta">
        <xsl:value-of select="atom:source/atom:title"/> ·
        <xsl:value-of select="translate(substring(atom:published, 1, 16), 'T', ' ')"/>
      </p>
      <p><xsl:value-of select="atom:summary"/></p>
    </li>
  </xsl:template>
</xsl:stylesheet>
