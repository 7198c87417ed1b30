"""The HTML report: every figure and table of the paper's kind, from the stages' JSON and PNG outputs."""
