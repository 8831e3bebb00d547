"""Site definitions: one TOML file per newspaper, validated on load.

Definitions are read from the bundled ``aggregator/sites/`` folder, then from each
folder of ``AGGREGATOR_SITES_DIRS`` / ``--sites-dir`` in order; a later definition
with the same id overrides an earlier one. Every problem is reported as one line
naming the file, the key and the problem.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urljoin, urlsplit

from parsel import Selector
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from aggregator.normalize.text import fold, slugify
from aggregator.normalize.urls import canonicalize_url
from aggregator.sites.categories import categories_for_section, category_labels
from aggregator.sites.provinces import province as province_unit
from aggregator.sites.provinces import province_key_for
from aggregator.sites.scope import Scope

__all__ = [
    "BUNDLED_SITES_DIR",
    "CANONICAL_CACHE",
    "DEFAULT_INTERVAL",
    "SiteDefinition",
    "SiteDefinitionError",
    "SiteRegistry",
    "load_site",
    "load_sites",
    "split_dirs",
]

#: Minutes between crawls of a site whose definition does not say (also the feeds' TTL).
DEFAULT_INTERVAL = 30

#: The bundled definitions: a folder, or a folder inside a zip (an egg deployed to Scrapyd).
BUNDLED_SITES: Traversable = resources.files("aggregator.sites").joinpath("bundled")
BUNDLED_SITES_DIR = Path(str(BUNDLED_SITES))
_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")
#: URLs a definition remembers the canonical forms of (see :meth:`SiteDefinition.link_url`),
#: in each of its two caches; ~350 bytes a URL, so ~7 MB a site at the bound. A listing's
#: recurring links (menus, boxes) are normalized again once after each clear (~14 µs each).
CANONICAL_CACHE = 10_000


class SiteDefinitionError(ValueError):
    """A definition that cannot be used; ``str()`` is one line per problem."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_regex(value: str) -> str:
    try:
        re.compile(value)
    except re.error as exc:
        raise ValueError(f"bad regex {value!r}: {exc}") from None
    return value


def _check_selector(value: str) -> str:
    probe = Selector(text="<html><body></body></html>")
    try:
        if value.startswith("xpath:"):
            probe.xpath(value[len("xpath:") :])
        else:
            probe.css(value)
    except Exception as exc:  # parsel raises several types for bad expressions
        raise ValueError(f"bad selector {value!r}: {exc}") from None
    return value


Regex = Annotated[str, Field(min_length=1)]


class Sources(_Model):
    listings: list[str] = []
    #: pages listing the newest articles of the whole site (an incremental crawl starts
    #: there; "" is the home page)
    latest: list[str] = [""]
    feeds: list[str] = []
    sitemaps: list[str] = []


class Links(_Model):
    article: Regex
    listing: Regex | None = None
    exclude: list[str] = []
    max_listing_pages: int = Field(10, ge=1, le=10_000)

    @field_validator("article", "listing")
    @classmethod
    def _regex(cls, v: str | None) -> str | None:
        return v if v is None else _check_regex(v)

    @field_validator("exclude")
    @classmethod
    def _excludes(cls, v: list[str]) -> list[str]:
        return [_check_regex(x) for x in v]


class Selectors(_Model):
    title: str | None = None
    lead: str | None = None
    body: str | None = None
    published: str | None = None
    updated: str | None = None
    authors: str | None = None
    section: str | None = None
    image: str | None = None
    remove: list[str] = []

    @field_validator("title", "lead", "body", "published", "updated", "authors", "section", "image")
    @classmethod
    def _one(cls, v: str | None) -> str | None:
        return v if v is None else _check_selector(v)

    @field_validator("remove")
    @classmethod
    def _many(cls, v: list[str]) -> list[str]:
        return [_check_selector(x) for x in v]


class Urls(_Model):
    """How the site's URLs are made canonical."""

    same_hosts: list[str] = []  # hosts of the same site (www., m.): folded to the base host
    fold_amp: bool = False  # AMP variants (/amp/, .amp.html, ?amp) are the same article
    drop_params: list[str] = []  # query parameters that never select content


class Politeness(_Model):
    delay: float = Field(0.5, ge=0)
    concurrency: int = Field(2, ge=1, le=64)
    autothrottle: bool = True


class SiteDefinition(_Model):
    """A validated newspaper definition."""

    id: str
    name: str = Field(min_length=1)
    #: display name of the province the paper published under (before 1 July 2025: the old one)
    province: str = Field(min_length=1)
    #: the 2025 province (a key of provinces.toml); derived from `province` when it names one
    province_key: str | None = None
    base_url: str
    active: bool = True
    #: the id of the outlet this (pre-merger) paper was absorbed by; checked on loading
    merged_into: str | None = None
    #: false until someone ran `aggregator sites test ID --live` against the real site
    verified: bool = True
    #: other hosts of the site (exact names: a subdomain is in scope only when listed)
    domains: list[str] = []
    interval: int = Field(DEFAULT_INTERVAL, ge=1, description="minutes between scheduled crawls")
    stale_after: float | None = Field(
        None, gt=0, description="hours without a new article before status says stale (72)"
    )
    sources: Sources = Sources()
    links: Links
    categories: dict[str, str | list[str]] = {}
    selectors: Selectors = Selectors()
    urls: Urls = Urls()
    politeness: Politeness = Politeness()
    path: Path | None = Field(None, exclude=True)

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        if not _ID.match(v):
            raise ValueError(f"{v!r} must match [a-z0-9][a-z0-9-]*")
        return v

    @model_validator(mode="before")
    @classmethod
    def _derive_province_key(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("province_key") is None:
            key = (
                province_key_for(data["province"])
                if isinstance(data.get("province"), str)
                else None
            )
            if key is not None:
                data = {**data, "province_key": key}
        return data

    @field_validator("province_key")
    @classmethod
    def _province_key(cls, v: str | None, info: ValidationInfo) -> str | None:
        if v is None:
            return v
        try:
            province_unit(v)
        except KeyError as exc:
            raise ValueError(exc.args[0]) from None
        name = info.data.get("province")
        derived = province_key_for(name) if name else None
        if derived is not None and derived != v:
            raise ValueError(
                f"{v!r}, but province {name!r} is part of {derived!r} since 1 July 2025"
            )
        return v

    @field_validator("merged_into")
    @classmethod
    def _merged_into(cls, v: str | None) -> str | None:
        if v is not None and not _ID.match(v):
            raise ValueError(f"{v!r} must be a site id")
        return v

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, v: str) -> str:
        parts = urlsplit(v)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{v!r} is not an absolute http(s) URL")
        return v if v.endswith("/") else v + "/"

    @field_validator("categories")
    @classmethod
    def _categories(cls, v: dict[str, str | list[str]]) -> dict[str, str | list[str]]:
        for section, keys in v.items():
            for key in [keys] if isinstance(keys, str) else keys:
                if not _ID.match(key):
                    raise ValueError(f"{section!r}: category key {key!r} must be an ASCII slug")
        return v

    # -- derived values -------------------------------------------------------

    @cached_property
    def host(self) -> str:
        return urlsplit(self.base_url).hostname or ""

    @cached_property
    def allowed_domains(self) -> list[str]:
        return list(dict.fromkeys([self.host, *self.urls.same_hosts, *self.domains]))

    @cached_property
    def _host_aliases(self) -> dict[str, str]:
        return {h.lower(): self.host for h in self.urls.same_hosts}

    @cached_property
    def _url_caches(self) -> tuple[dict[str, str], dict[str, str]]:
        return {}, {}  # link URLs, canonical URLs

    def _normalized(self, url: str, *, sort_query: bool) -> str:
        cache = self._url_caches[sort_query]
        found = cache.get(url)
        if found is None:
            found = canonicalize_url(
                url,
                host_aliases=self._host_aliases,
                fold_amp=self.urls.fold_amp,
                drop_params=self.urls.drop_params,
                sort_query=sort_query,
            )
            if len(cache) >= CANONICAL_CACHE:
                cache.clear()
            cache[url] = cache[found] = found  # idempotent: the normal form is its own
        return found

    def canonical_url(self, url: str) -> str:
        """The canonical form of one of this site's URLs (see :mod:`aggregator.normalize.urls`):
        what identifies an article in the store."""
        return self._normalized(url, sort_query=True)

    def link_url(self, url: str) -> str:
        """The canonical form of a link with its query keys in the link's order: what the
        crawl requests and the ``[links]`` patterns are matched against. Without tracking
        parameters, on the site's own host, the AMP variant folded: the dupefilter (local
        or Redis) sees one URL per article, and a pattern anchored at ``$`` matches a link
        with ``?utm_source=...``.

        Remembered (up to :data:`CANONICAL_CACHE` URLs): a listing page links the same
        menus and boxes as the one before it, and matching a link normalizes it again."""
        return self._normalized(url, sort_query=False)

    @cached_property
    def start_urls(self) -> dict[str, list[str]]:
        """Absolute source URLs by kind (listings, latest, feeds, sitemaps)."""
        src = self.sources
        return {
            kind: [urljoin(self.base_url, u) for u in getattr(src, kind)]
            for kind in ("listings", "latest", "feeds", "sitemaps")
        }

    @cached_property
    def article_re(self) -> re.Pattern[str]:
        return re.compile(self.links.article)

    @cached_property
    def listing_re(self) -> re.Pattern[str] | None:
        return re.compile(self.links.listing) if self.links.listing else None

    @cached_property
    def exclude_res(self) -> list[re.Pattern[str]]:
        return [re.compile(x) for x in self.links.exclude]

    @cached_property
    def _category_map(self) -> dict[str, tuple[str, ...]]:
        out: dict[str, tuple[str, ...]] = {}
        for section, keys in self.categories.items():
            out[fold(section, diacritics=False)] = (keys,) if isinstance(keys, str) else tuple(keys)
            out[slugify(section)] = out[fold(section, diacritics=False)]
        return out

    @cached_property
    def category_keys(self) -> frozenset[str]:
        """Every category key the site's ``[categories]`` names."""
        return frozenset(k for keys in self._category_map.values() for k in keys)

    def categories_for(self, section: str | None) -> tuple[str, ...]:
        """Category keys of a section (displayed name or URL segment).

        The site's ``[categories]`` first, then the shared scheme; a section in neither
        has no category (page text never mints a key: a hostile or garbled section name
        would become a feed of its own).
        """
        if not section:
            return ()
        found = self._category_map.get(fold(section, diacritics=False))
        if found is None:
            found = self._category_map.get(slugify(section))
        if found is None:
            found = categories_for_section(section)
        return found

    # The patterns are matched against the link's canonical URL (:meth:`link_url`): a
    # link with ``?utm_source=...``, another host of the site or an AMP variant is the
    # article it stands for, whatever the pattern's anchors.

    def is_article(self, url: str) -> bool:
        """``links.article`` matches the canonical form of ``url``, no ``links.exclude`` does."""
        url = self.link_url(url)
        return bool(self.article_re.search(url)) and not self._excluded(url)

    def is_listing(self, url: str) -> bool:
        """``links.listing`` matches the canonical form of ``url`` (and it is no article)."""
        url = self.link_url(url)
        return (
            self.listing_re is not None
            and bool(self.listing_re.search(url))
            and not self.article_re.search(url)
            and not self._excluded(url)
        )

    def is_excluded(self, url: str) -> bool:
        """A ``links.exclude`` pattern matches the canonical form of ``url``."""
        return self._excluded(self.link_url(url))

    def _excluded(self, canonical: str) -> bool:
        return any(r.search(canonical) for r in self.exclude_res)

    @cached_property
    def scope(self) -> Scope:
        """The site's origins: the base URL's host and port, ``urls.same_hosts`` and
        ``domains`` (:mod:`aggregator.sites.scope`)."""
        return Scope.of(self.base_url, [*self.urls.same_hosts, *self.domains])

    def in_scope(self, url: str) -> bool:
        """Whether ``url`` may be fetched for this site: http(s), one of its hosts, its
        port. The one check every link, redirect and source of the site passes."""
        return self.scope.refusal(url) is None


def _problem(path: Path | Traversable, loc: Iterable[Any], msg: str) -> str:
    key = ".".join(str(p) for p in loc) or "(file)"
    return f"{path}: {key}: {msg}"


def load_site(path: Path | Traversable) -> SiteDefinition:
    """Read and validate one definition; raises :class:`SiteDefinitionError`."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise SiteDefinitionError([_problem(path, (), f"cannot read: {exc}")]) from None
    except tomllib.TOMLDecodeError as exc:
        raise SiteDefinitionError([_problem(path, (), f"invalid TOML: {exc}")]) from None
    except RecursionError:
        problem = _problem(path, (), "invalid TOML: nested too deeply")
        raise SiteDefinitionError([problem]) from None
    try:
        site = SiteDefinition.model_validate({**data, "path": Path(str(path))})
    except RecursionError:
        raise SiteDefinitionError([_problem(path, (), "nested too deeply")]) from None
    except ValidationError as exc:
        problems = _validation_problems(path, exc)
        raise SiteDefinitionError(problems) from None
    except Exception as exc:  # a validator's own bug must not stop the other sites
        problem = _problem(path, (), f"cannot load: {type(exc).__name__}: {exc}")
        raise SiteDefinitionError([problem]) from None
    return site


def _validation_problems(path: Path | Traversable, exc: ValidationError) -> list[str]:
    problems = []
    for err in exc.errors():
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "missing":
            msg = "missing required key"
        elif err["type"] == "extra_forbidden":
            msg = "unknown key"
        problems.append(_problem(path, err["loc"], msg))
    return problems


def split_dirs(value: str) -> list[Path]:
    """Folders of an ``os.pathsep``-separated list (``AGGREGATOR_SITES_DIRS``)."""
    return [Path(p) for p in value.split(os.pathsep) if p]


def known_categories(definitions: Iterable[SiteDefinition]) -> frozenset[str]:
    """The category keys there may be feeds for: the shared scheme's and those the
    definitions' ``[categories]`` name."""
    keys = set(category_labels())
    for definition in definitions:
        keys |= definition.category_keys
    return frozenset(keys)


@dataclass
class SiteRegistry:
    """All loaded definitions by id, and the problems of those that did not load."""

    sites: dict[str, SiteDefinition] = field(default_factory=dict)
    #: one line per problem (file, key, problem) of the definitions left out
    problems: list[str] = field(default_factory=list)
    #: the files whose definition was left out
    broken: set[str] = field(default_factory=set)

    def get(self, site_id: str) -> SiteDefinition:
        try:
            return self.sites[site_id]
        except KeyError:
            known = ", ".join(sorted(self.sites)) or "(none)"
            raise KeyError(f"unknown site {site_id!r}; known sites: {known}") from None

    def __iter__(self) -> Any:
        return iter(self.sites[k] for k in sorted(self.sites))

    def __len__(self) -> int:
        return len(self.sites)

    def __contains__(self, site_id: object) -> bool:
        return site_id in self.sites


def load_sites(
    extra_dirs: Sequence[Path | str] = (), *, bundled: bool = True, strict: bool = True
) -> SiteRegistry:
    """Load bundled definitions, then each extra folder (later ones override).

    All problems in all files are collected and raised together; with ``strict=False``
    a broken definition is left out instead and its problems kept in
    :attr:`SiteRegistry.problems`, so the other sites carry on.
    """
    dirs: list[Path | Traversable] = [BUNDLED_SITES] if bundled else []
    dirs += [Path(d) for d in extra_dirs]
    registry = SiteRegistry()
    problems: list[str] = []
    for folder in dirs:
        if not folder.is_dir():
            problems.append(f"{folder}: (folder): not a folder")
            continue
        seen: dict[str, Path | Traversable] = {}
        try:
            tomls = sorted(
                (p for p in folder.iterdir() if p.name.endswith(".toml")), key=lambda p: p.name
            )
        except OSError as exc:
            problems.append(f"{folder}: (folder): cannot read: {exc.strerror or exc}")
            continue
        for path in tomls:
            try:
                site = load_site(path)
            except SiteDefinitionError as exc:
                problems.extend(exc.problems)
                registry.broken.add(str(path))
                continue
            if site.id in seen:
                problems.append(
                    _problem(path, ("id",), f"duplicate id {site.id!r} (also in {seen[site.id]})")
                )
                registry.broken.add(str(path))
                continue
            seen[site.id] = path
            registry.sites[site.id] = site
    for site, problem in _merge_problems(registry):
        problems.append(problem)
        registry.broken.add(str(site.path))
        registry.sites.pop(site.id, None)
    if problems and strict:
        raise SiteDefinitionError(problems)
    registry.problems = problems
    return registry


def _merge_problems(registry: SiteRegistry) -> list[tuple[SiteDefinition, str]]:
    """``merged_into`` must name an outlet of the registry in the same 2025 province."""
    problems = []
    for site in registry:
        if site.merged_into is None:
            continue
        target = registry.sites.get(site.merged_into)
        if target is None or target.id == site.id:
            msg = f"{site.merged_into!r} names {'itself' if target else 'no loaded definition'}"
        elif target.merged_into is not None:
            msg = f"{target.id!r} merged into {target.merged_into!r} itself: name that outlet"
        elif target.province_key != site.province_key:
            msg = (
                f"{target.id!r} is an outlet of {target.province_key!r}, "
                f"this paper's province is {site.province_key!r}"
            )
        else:
            continue
        problems.append(
            (site, _problem(site.path or Path(f"{site.id}.toml"), ("merged_into",), msg))
        )
    return problems
