#!/usr/bin/env python3
"""Lists every function in the given C++ files whose body is longer than a limit.

Fast stand-in for clang-tidy's readability-function-size (LineThreshold), which is
the authoritative check (see scripts/check-function-size.sh). A function's length is
counted as clang-tidy counts it: the line of its closing brace minus the line of its
opening brace. Lambdas and local classes inside a function are part of it. The scan is
lexical: it skips comments, string, character and raw string literals and preprocessor
lines, tells namespaces, classes and initialisers from function bodies by what precedes
each opening brace, and needs no compile flags.

Usage: check-function-size.py [--limit N] FILE...
Prints "file:line name length" per function over the limit (line: where its name is).
Exit code: 1 if any function is over the limit, else 0.
"""

import argparse
import re
import sys

CLASS_RE = re.compile(r"\b(class|struct|union|enum)\b")
NAMESPACE_RE = re.compile(r"^\s*(inline\s+)?namespace\b|^\s*extern\s*\"C\+*\"\s*$")
NAME_RE = re.compile(r"((?:[A-Za-z_]\w*\s*::\s*)*~?\s*(?:operator\s*[^\s(]+|operator\s*\(\s*\)|[A-Za-z_]\w*))\s*$")
QUALIFIERS = {"const", "noexcept", "override", "final", "mutable", "volatile", "try"}


def strip_code(text):
    """Returns text with comments, literals and preprocessor lines blanked out.

    Newlines are kept, so offsets map to the same lines; literal contents become
    spaces (their quotes stay), so no brace inside them is seen.
    """
    out = []
    i, n = 0, len(text)
    line_start = True
    while i < n:
        c = text[i]
        if line_start and c == "#":
            # A preprocessor directive, continued by trailing backslashes.
            while i < n and text[i] != "\n":
                if text[i] == "\\" and i + 1 < n and text[i + 1] == "\n":
                    out.append(" \n")
                    i += 2
                    continue
                out.append(" ")
                i += 1
            continue
        if c == "\n":
            out.append(c)
            line_start = True
            i += 1
            continue
        if not c.isspace():
            line_start = False
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif c == "R" and text.startswith('R"', i) and not _ident_before(text, i, allow=("u8", "u", "U", "L")):
            m = re.match(r'R"([^ ()\\\t\n]{0,16})\(', text[i:])
            if not m:
                out.append(c)
                i += 1
                continue
            end = text.find(")" + m.group(1) + '"', i + m.end())
            end = n if end < 0 else end + len(m.group(1)) + 2
            out.append('R"' + re.sub(r"[^\n]", " ", text[i + 2:end - 1]) + '"')
            i = end
        elif c == '"' or (c == "'" and not _digit_separator(text, i)):
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            j = min(j + 1, n)
            out.append(c + " " * max(0, j - i - 2) + (c if j - i >= 2 else ""))
            i = j
        else:
            out.append(c)
            i += 1
    return "".join(out)


def _ident_before(text, i, allow=()):
    """True if an identifier character ends right before i (other than a literal prefix)."""
    j = i
    while j > 0 and (text[j - 1].isalnum() or text[j - 1] == "_"):
        j -= 1
    word = text[j:i]
    return word != "" and word not in allow


def _digit_separator(text, i):
    return i > 0 and text[i - 1].isalnum() and i + 1 < len(text) and text[i + 1].isalnum() and \
        re.search(r"\b\d[\w']*$", text[max(0, i - 40):i]) is not None


def strip_template_prefix(header):
    """Drops leading `template <...>` clauses (their `class` is not a class)."""
    h = header.lstrip()
    while h.startswith("template"):
        k = h.find("<")
        if k < 0:
            break
        depth = 0
        for j in range(k, len(h)):
            depth += {"<": 1, ">": -1}.get(h[j], 0)
            if depth == 0:
                h = h[j + 1:].lstrip()
                break
        else:
            break
    return h


OPERATOR_NAME = re.compile(r"\boperator\s*(<=>|<<=|>>=|<<|>>|<=|>=|<|>|\(\s*\)|\[\s*\])")


def top_level_paren(header):
    """Index of the first '(' outside angle/square brackets, or -1."""
    # An operator's name (operator<, operator<<, operator(), ...) is not a bracket.
    header = OPERATOR_NAME.sub(lambda m: "operator" + "_" * (len(m.group(0)) - 8), header)
    depth = 0
    for j, ch in enumerate(header):
        if ch in "[<":
            depth += 1
        elif ch in "]>" and depth > 0:
            depth -= 1
        elif ch == "(" and depth == 0:
            return j
    return -1


def classify(header):
    """'namespace', 'class', 'function' or 'other' for the brace that ends `header`."""
    h = strip_template_prefix(header)
    if NAMESPACE_RE.search(h):
        return "namespace"
    paren = top_level_paren(h)
    cls = CLASS_RE.search(h)
    if cls and (paren < 0 or cls.start() < paren) and "=" not in h[:cls.start()]:
        return "class"
    if paren >= 0 and ")" in h[paren:]:
        return "function"
    return "other"


def function_name(header):
    h = strip_template_prefix(header)
    paren = top_level_paren(h)
    before = h[:paren].rstrip() if paren >= 0 else h
    if before.endswith("]"):
        return "(lambda)"
    m = NAME_RE.search(before)
    return re.sub(r"\s+", "", m.group(1)) if m else "(unknown)"


def in_init_list(header):
    """True once a constructor's `: member(...)` list has begun after its parameters."""
    h = strip_template_prefix(header)
    paren = top_level_paren(h)
    if paren < 0:
        return False
    depth = 0
    for j in range(paren, len(h)):
        ch = h[j]
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == ":" and depth == 0:
            prev = h[j - 1] if j > 0 else ""
            nxt = h[j + 1] if j + 1 < len(h) else ""
            if prev != ":" and nxt != ":":
                return True
    return False


def brace_is_member_init(header):
    """In an init list, `x_{...}` initialises a member; `) {` or `} {` opens the body."""
    tail = header.rstrip()
    if not tail:
        return False
    last = tail[-1]
    if last in ")}":
        return False
    word = re.search(r"([A-Za-z_]\w*)$", tail)
    return (word is not None and word.group(1) not in QUALIFIERS) or last == ">"


def scan(path, text, limit):
    """Yields (line, name, length) of each function body longer than `limit` lines."""
    code = strip_code(text)
    line_of = []
    line = 1
    for ch in code:
        line_of.append(line)
        if ch == "\n":
            line += 1
    stack = []  # kinds of the open braces outside functions
    header_start = 0
    i, n = 0, len(code)
    while i < n:
        ch = code[i]
        if ch == "{":
            header = code[header_start:i]
            kind = classify(header)
            if kind == "function" and in_init_list(header) and brace_is_member_init(header):
                i = match_brace(code, i) + 1  # part of the header, not a scope
                continue
            if kind == "function":
                end = match_brace(code, i)
                length = line_of[min(end, n - 1)] - line_of[i]
                if length > limit:
                    name_line = name_line_of(code, header_start, i, line_of)
                    yield name_line, function_name(header), length
                i = end + 1
                header_start = i
                continue
            stack.append(kind)
            header_start = i + 1
        elif ch == "}":
            if stack:
                stack.pop()
            header_start = i + 1
        elif ch == ";":
            header_start = i + 1
        elif ch == ":" and stack and stack[-1] == "class":
            # Access specifiers (`public:`) end a header inside a class.
            if re.search(r"\b(public|private|protected)\s*$", code[header_start:i]):
                header_start = i + 1
        i += 1


def match_brace(code, i):
    depth = 0
    for j in range(i, len(code)):
        if code[j] == "{":
            depth += 1
        elif code[j] == "}":
            depth -= 1
            if depth == 0:
                return j
    return len(code) - 1


def name_line_of(code, start, brace, line_of):
    paren = top_level_paren(code[start:brace])
    k = start + paren if paren >= 0 else brace
    while k > start and code[k - 1].isspace():
        k -= 1
    return line_of[max(start, k - 1)] if k > start else line_of[brace]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=80)
    parser.add_argument("files", nargs="+")
    args = parser.parse_args()
    found = False
    for path in args.files:
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
        for line, name, length in scan(path, text, args.limit):
            print(f"{path}:{line} {name} {length}")
            found = True
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
