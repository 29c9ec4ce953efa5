"""Deviation pages come with the review-by-exception work; the API serves them meanwhile."""
