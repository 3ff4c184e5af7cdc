"""How a change reaches readers.

live.py (the live event log: what readers are told, derived from state),
announcer.py (announcing after commit, off the request), stream.py (the
Server-Sent Events hub and its endpoints), fragments.py (each entry rendered
once per change, cached by its row's updated_at), structured.py (an entry's
schema.org BlogPosting, cached with its fragment), push.py (Web Push alerts,
sent after the announcement commits, re-checked as public when sent).

May import: liveupdates.models, richtext, images. Never editorial or site:
delivery knows the data, not who changes it or which page shows it.
"""
