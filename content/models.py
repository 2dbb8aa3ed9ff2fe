"""ATRAER: the content citizens find — articles, pages, FAQs, videos."""
