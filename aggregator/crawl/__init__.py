"""Crawling with Scrapy: the spider, thin pipelines over the processing chain, incremental and
shared-queue crawls, the runner and scheduler.
"""
