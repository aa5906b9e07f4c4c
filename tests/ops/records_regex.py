"""Records: the regex ops work on strings, so tests/test_regex_ops.py checks them against TF 2.21's results."""
RECORDS: list = []

COVERED_ELSEWHERE = {
    "RegexFullMatch": "tests/test_regex_ops.py (TF 2.21's results for tensor patterns, bad patterns' errors)",
    "StaticRegexReplace": "tests/test_regex_ops.py (TF 2.21's results: groups, empty matches, UTF-8, first only)",
    "RegexReplace": "tests/test_regex_ops.py (TF 2.21's results and errors for tensor patterns and rewrites)",
}
