"""The output writers, the last stage of the build: each turns the laid-out or
rendered edition into the bytes of one file (EPUB, print PDF and PDF/A, the
permissions report). Nothing here reads the content folders."""
