"""The print layout made chain by chain: where the document falls apart (breaks), laid out
again only from the page a change moves (pagination), on all cores (book), cached (cache)."""
