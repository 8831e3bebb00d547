"""The item pipelines of a Scrapy crawl: an item without a title or text is dropped with
a counted reason."""

import pytest

from aggregator.items import Article


def test_empty_title_or_body_is_dropped_with_a_counted_reason() -> None:
    from scrapy.exceptions import DropItem
    from scrapy.utils.test import get_crawler

    from aggregator.crawl.pipelines import ValidatePipeline

    crawler = get_crawler()
    pipeline = ValidatePipeline.from_crawler(crawler)
    ok = Article(url="http://x.vn/a", site="d", title="Tiêu đề", body_text="Nội dung.")
    assert pipeline.process_item(ok) is ok
    for bad in (
        Article(url="http://x.vn/b", site="d", title=" \u00a0 ", body_text="Nội dung."),
        Article(url="http://x.vn/c", site="d", title="Tiêu đề", body_text="\n \n"),
    ):
        with pytest.raises(DropItem, match="empty"):
            pipeline.process_item(bad)
    assert crawler.stats is not None
    assert crawler.stats.get_value("aggregator/errors/empty_title") == 1
    assert crawler.stats.get_value("aggregator/errors/empty_body_text") == 1
