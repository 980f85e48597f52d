"""The EPUB builder (placeholder until written)."""

def build_epub(edition, env, project, date) -> bytes:
    raise NotImplementedError
