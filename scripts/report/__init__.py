"""The compatibility report: every cell's result, aggregated into JSON, Markdown, HTML and badges.

python -m scripts.report --results results --out reports [--previous PATH]
"""
