"""Scrapy spiders: one configuration-driven class serves every message board."""
