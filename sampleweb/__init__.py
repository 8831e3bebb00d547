"""The sample provincial web: four fictional newspapers served on 127.0.0.1.

Pages are rendered from the ground truth in ``groundtruth/`` (see
:mod:`sampleweb.groundtruth`); each newspaper lives under
``http://127.0.0.1:PORT/<site-id>/`` and has a site-definition template in
``sites/<site-id>.toml``. Start it with ``python -m sampleweb``::

    with SampleWeb() as web:
        web.write_site_definitions(tmp_path)   # <id>.toml with this server's URLs
        crawl(web.base_url("tamdao"))
"""

from sampleweb.base import Page
from sampleweb.render import article_path, article_paths, render_web
from sampleweb.server import SampleWeb

__all__ = ["Page", "SampleWeb", "article_path", "article_paths", "render_web"]
