"""Newsroom Live's app: live coverage from the desk to readers' screens.

The folders are the architecture (docs/architecture.md draws it):

* models/: the data every part shares; richtext.py and images.py, what the
  models are made of (migrations name them, so they stay here);
* editorial/: what journalists write and editors decide (the workflow, the desk, the admin);
* delivery/: how a change reaches readers (the live event log, the stream, fragments);
* site/: what readers and machines read (pages, feeds, the API, search, maps).

Arrows point one way: site -> editorial -> delivery -> models.
"""
