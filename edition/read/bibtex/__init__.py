"""What the bibliography reader (``read.bibliography``) leans on: where a BibTeX file fails,
the entry types CSL knows, a field written back as Markdown."""
