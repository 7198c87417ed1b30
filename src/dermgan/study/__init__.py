"""The human studies of the paper's Fig. 7 (Turing test, expert relevance test): build, serve, score.

A study is one SQLite file holding its images (re-encoded, blinded), questions, participants and answers,
so it can be copied, served, backed up and scored as a unit. This stage serves files and runs no model.
"""
