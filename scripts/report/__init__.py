"""The compatibility report: every cell's result, aggregated into JSON, Markdown, HTML and badges,
with what the history of earlier runs says (strips, first failures, flaky tests, "since").

python -m scripts report --results results --out reports [--previous PATH] [--history PATH]
"""
