#!/usr/bin/env python3
"""Static checker for the Clawdstrike Splunk app (Python 3 standard library only).

Splunk cannot run here, so this script checks what can be checked offline:

  spec.*        every .conf stanza and setting name against Splunk 9.2's
                .conf.spec files (tests/spec/), plus simple value types
  appinspect.*  the AppInspect packaging rules of reference/splunk-app.md §6
  views.*/nav   Simple XML 1.1 dashboards: parse, macros, drilldowns, tokens
  lookups.*     transforms name existing CSVs with headers; LOOKUP- and
                | lookup references name existing transforms and columns
  macros        every macro used is defined (with its argument count)
  eventtypes    eventtype/tag cross references, CIM tag names
  searches.*    saved searches parse, scheduling/throttling rules, the
                required alerts and the compliance report
  relay.*       agreement with the relay's source: indexed field names
                (src/config.c default, src/route.c table, src/event.c),
                sourcetypes, index; no field defined twice
  seed.*        the seed's example searches work as written
  package       (with --package) the built .tgz

Usage:
  check_app.py                      check splunk-app/clawdstrike
  check_app.py --package FILE.tgz   also check a built package
  check_app.py --self-test          break a copy of the app in many ways and
                                    verify every check rejects its breakage

Prints one line per failure and "N passed, M failed"; exits 1 on failure.
"""

import argparse
import csv
import os
import re
import shutil
import struct
import sys
import tarfile
import tempfile
import urllib.parse
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))
APP_NAME = "clawdstrike"


# --------------------------------------------------------------------------
# Result bookkeeping
# --------------------------------------------------------------------------

class Results:
    def __init__(self, quiet=False):
        self.passed = 0
        self.failed = 0
        self.failures = []  # (check id, message)
        self.quiet = quiet

    def ok(self, check_id, cond, msg):
        """Record one assertion; msg describes the problem when cond is false."""
        if cond:
            self.passed += 1
        else:
            self.failed += 1
            self.failures.append((check_id, msg))
            if not self.quiet:
                print("FAIL [%s] %s" % (check_id, msg))
        return cond

    def failed_ids(self):
        return {c for c, _ in self.failures}


CHECKS = []  # (id, function)


def check(check_id):
    def deco(fn):
        CHECKS.append((check_id, fn))
        return fn
    return deco


# --------------------------------------------------------------------------
# .conf and .conf.spec parsing
# --------------------------------------------------------------------------

class Conf:
    """A parsed .conf file: ordered stanzas of ordered settings."""

    def __init__(self, path):
        self.path = path
        self.stanzas = {}   # name -> {key: (value, line)}
        self.order = []
        self.errors = []    # syntax problems
        self._parse()

    def _parse(self):
        with open(self.path, encoding="utf-8") as f:
            raw = f.read().split("\n")
        cur = "default"
        self.stanzas[cur] = {}
        implicit_default = True
        i = 0
        while i < len(raw):
            lineno = i + 1
            line = raw[i]
            # backslash continuation joins physical lines
            while line.endswith("\\") and i + 1 < len(raw):
                i += 1
                line = line[:-1] + "\n" + raw[i]
            i += 1
            s = line.strip()
            if not s or s.startswith("#"):
                continue
            if s.startswith("["):
                if not s.endswith("]"):
                    self.errors.append("line %d: unterminated stanza header %r" % (lineno, s))
                    continue
                cur = s[1:-1]
                if cur in self.stanzas and not (cur == "default" and implicit_default):
                    self.errors.append("line %d: stanza [%s] appears twice" % (lineno, cur))
                if cur == "default":
                    implicit_default = False
                self.stanzas.setdefault(cur, {})
                if cur not in self.order:
                    self.order.append(cur)
                continue
            m = re.match(r"^([^=\s][^=]*?)\s*=\s?(.*)$", s, re.S)
            if not m:
                self.errors.append("line %d: not a comment, stanza or setting: %r" % (lineno, s))
                continue
            key, value = m.group(1), m.group(2).strip()
            if key in self.stanzas[cur]:
                self.errors.append("line %d: [%s] %s set twice (the last one silently wins)"
                                   % (lineno, cur, key))
            self.stanzas[cur][key] = (value, lineno)
        if not self.stanzas["default"]:
            del self.stanzas["default"]

    def get(self, stanza, key, default=None):
        v = self.stanzas.get(stanza, {}).get(key)
        return v[0] if v else default

    def items(self):
        for st in self.order:
            for k, (v, ln) in self.stanzas[st].items():
                yield st, k, v, ln


def spec_pattern(name):
    """Spec names use <placeholders>; each matches one or more characters."""
    parts = re.split(r"(<[^>]*>)", name)
    rx = "".join(".+" if p.startswith("<") and p.endswith(">") else re.escape(p)
                 for p in parts)
    return re.compile("^" + rx + "$", re.S)


class Spec:
    """A parsed .conf.spec: settings per stanza, with their value syntax."""

    def __init__(self, path):
        self.path = path
        self.stanzas = {None: {}}  # None: settings before any stanza (global)
        cur = None
        with open(path, encoding="utf-8") as f:
            for line in f:
                line = line.rstrip("\n")
                m = re.match(r"^\[(.*)\]\s*$", line)
                if m:
                    cur = m.group(1)
                    self.stanzas.setdefault(cur, {})
                    continue
                m = re.match(r"^([A-Za-z0-9_<>.:$\-]+)\s*=\s*(.*)$", line)
                if m:
                    self.stanzas[cur].setdefault(m.group(1), m.group(2).strip())

    def stanza_candidates(self, name):
        if name == "default":
            return [s for s in self.stanzas if s is not None]
        exact = [s for s in self.stanzas if s is not None and "<" not in s and s == name]
        if exact:
            return exact
        out = []
        for s in self.stanzas:
            if s is None or "<" not in s:
                continue
            alts = s.split("|") if "|" in s else [s]
            if any(spec_pattern(a).match(name) for a in alts):
                out.append(s)
        return out

    def setting(self, stanza_name, key):
        """The spec's value syntax for key in stanza_name, or None if unknown."""
        cands = self.stanza_candidates(stanza_name) + [None]
        if "default" in self.stanzas:
            cands.append("default")
        for st in cands:
            for sk, syntax in self.stanzas.get(st, {}).items():
                if sk == key:
                    return syntax
        # the most specific placeholder pattern wins (action.<name>.<parameter>
        # over action.<name>)
        best, best_len = None, -1
        for st in cands:
            for sk, syntax in self.stanzas.get(st, {}).items():
                if "<" in sk and spec_pattern(sk).match(key):
                    lit = len(re.sub(r"<[^>]*>", "", sk))
                    if lit > best_len:
                        best, best_len = syntax, lit
        return best


# --------------------------------------------------------------------------
# The app model: everything the checks look at, loaded once
# --------------------------------------------------------------------------

class App:
    def __init__(self, app_dir, spec_dir, src_dir, seed_file):
        self.dir = app_dir
        self.spec_dir = spec_dir
        self.src_dir = src_dir
        self.seed_file = seed_file
        self.confs = {}
        ddir = os.path.join(app_dir, "default")
        if os.path.isdir(ddir):
            for fn in sorted(os.listdir(ddir)):
                if fn.endswith(".conf"):
                    self.confs[fn[:-5]] = Conf(os.path.join(ddir, fn))
        meta = os.path.join(app_dir, "metadata", "default.meta")
        self.meta = Conf(meta) if os.path.isfile(meta) else None
        self.views = {}     # name -> (root element or None, error)
        vdir = os.path.join(ddir, "data", "ui", "views")
        if os.path.isdir(vdir):
            for fn in sorted(os.listdir(vdir)):
                if fn.endswith(".xml"):
                    try:
                        self.views[fn[:-4]] = (ET.parse(os.path.join(vdir, fn)).getroot(), None)
                    except ET.ParseError as e:
                        self.views[fn[:-4]] = (None, str(e))

    def conf(self, name):
        return self.confs.get(name)

    def macros(self):
        c = self.conf("macros")
        return {st: c.stanzas[st] for st in c.order} if c else {}

    def props_stanzas(self):
        c = self.conf("props")
        return [s for s in c.order if s.startswith("clawdstrike:")] if c else []


# --------------------------------------------------------------------------
# SPL helpers: macros, a light parser, field references
# --------------------------------------------------------------------------

MACRO_RX = re.compile(r"`([A-Za-z0-9_]+)(?:\(([^`]*)\))?`")


def macro_refs(text):
    """[(stanza name, name, nargs)] for every `macro` / `macro(a,b)` in text."""
    out = []
    for m in MACRO_RX.finditer(text):
        name, args = m.group(1), m.group(2)
        n = 0 if args is None else len(split_args(args))
        out.append((name if n == 0 else "%s(%d)" % (name, n), name, n))
    return out


def split_args(s):
    out, cur, q = [], "", False
    for ch in s:
        if ch == '"':
            q = not q
        if ch == "," and not q:
            out.append(cur)
            cur = ""
        else:
            cur += ch
    out.append(cur)
    return out


def expands_to(app, text, target="clawdstrike_index", seen=None):
    """True if text uses `target` directly or through macros.conf definitions."""
    macros = app.macros()
    seen = seen or set()
    for stanza, name, _ in macro_refs(text):
        if name == target:
            return True
        if stanza in seen or stanza not in macros:
            continue
        seen.add(stanza)
        d = macros[stanza].get("definition", ("", 0))[0]
        if expands_to(app, d, target, seen):
            return True
    return False


LITERAL_INDEX_RX = re.compile(r"(?<![A-Za-z0-9_.])index\s*(=\s*\"?[A-Za-z0-9_*]|IN\s*\()", re.I)

SPL_COMMANDS = set("""
abstract accum addcoltotals addinfo addtotals analyzefields anomalies anomalousvalue
append appendcols appendpipe arules associate autoregress bin bucket bucketdir chart
cluster collect concurrency contingency convert correlate datamodel dbinspect dedup
delta diff eval eventcount eventstats extract fieldformat fields fieldsummary
filldown fillnull findtypes foreach format from gauge gentimes geostats head
highlight history iconify inputcsv inputlookup iplocation join kmeans kvform
loadjob localize localop lookup makecontinuous makemv makeresults map mcatalog
metadata metasearch mstats multikv multisearch mvcombine mvexpand nomv outlier
outputcsv outputlookup predict rangemap rare regex relevancy reltime rename
replace rest return reverse rex rtorder savedsearch script search searchtxn
selfjoin sendemail set setfields sichart sirare sistats sitimechart sitop sort
spath stats strcat streamstats table tags tail timechart timewrap top transaction
transpose trendline tscollect tstats typeahead typelearner typer union uniq
untable where x11 xmlkv xmlunescape xpath xyseries
""".split())
GENERATING = {"tstats", "inputlookup", "makeresults", "mstats", "mcatalog", "rest",
              "metadata", "datamodel", "from", "search", "savedsearch", "loadjob",
              "gentimes", "multisearch", "union", "eventcount", "dbinspect",
              "inputcsv", "metasearch", "history"}


def spl_problems(spl):
    """Light SPL parse: quotes, brackets, backticks balance; known commands."""
    probs = []
    closing = {")": "(", "]": "["}
    q = False
    bt = False
    segs, cur, stack = [], "", []
    subs = []
    i = 0
    while i < len(spl):
        ch = spl[i]
        if ch == "\\" and q and i + 1 < len(spl):
            cur += spl[i:i + 2]
            i += 2
            continue
        if ch == '"' and not bt:
            q = not q
        elif ch == "`" and not q:
            bt = not bt
        elif not q and not bt:
            if ch in "([":
                stack.append((ch, len(cur)))
            elif ch in ")]":
                if not stack or stack[-1][0] != closing[ch]:
                    probs.append("unbalanced %r" % ch)
                    return probs
                _, start = stack.pop()
                if ch == "]" and not stack:
                    subs.append(cur[start + 1:])
            elif ch == "|" and not stack:
                segs.append(cur)
                cur = ""
                i += 1
                continue
        cur += ch
        i += 1
    segs.append(cur)
    if q:
        probs.append("unterminated double quote")
    if bt:
        probs.append("unterminated backtick (macro)")
    if stack:
        probs.append("unclosed %r" % stack[-1][0])
    if probs:
        return probs
    leading_pipe = not segs[0].strip()
    for n, seg in enumerate(segs):
        s = seg.strip()
        if n == 0 and leading_pipe:
            continue
        if not s:
            probs.append("empty command between pipes")
            continue
        if n == 0:
            continue  # implicit search terms
        cmd = re.match(r"[A-Za-z_][A-Za-z0-9_]*", s)
        if not cmd or cmd.group(0).lower() not in SPL_COMMANDS:
            probs.append("unknown command %r" % s.split()[0])
        elif n == 1 and leading_pipe and cmd.group(0).lower() not in GENERATING:
            probs.append("%r cannot start a search (not a generating command)" % cmd.group(0))
    for sub in subs:
        sub = sub.strip()
        if sub.startswith("|"):
            probs.extend(spl_problems(sub))
        else:
            probs.extend(spl_problems(re.sub(r"^search\s+", "", sub)))
    return probs


# --------------------------------------------------------------------------
# Relay facts, parsed from the C source
# --------------------------------------------------------------------------

class RelayFacts:
    def __init__(self, src_dir):
        self.errors = []
        cfg = self._read(os.path.join(src_dir, "config.c"))
        route = self._read(os.path.join(src_dir, "route.c"))
        event = self._read(os.path.join(src_dir, "event.c"))

        def default_of(key):
            m = re.search(r'SPL\s*"%s"\s*,\s*CT_\w+\s*,\s*OFF\([^)]*\)\s*,\s*"([^"]*)"' % re.escape(key), cfg)
            if not m:
                self.errors.append("src/config.c: no default for exporters.splunk.%s" % key)
                return ""
            return m.group(1)

        self.indexed_default = default_of("indexed_fields").split()
        self.sourcetype = default_of("sourcetype")
        self.index = default_of("index")
        self.source = default_of("source")
        m = re.search(r"event_top_keys\[\]\s*=\s*\{(.*?)\};", cfg, re.S)
        self.top_keys = re.findall(r'"([^"]+)"', m.group(1)) if m else []
        if not self.top_keys:
            self.errors.append("src/config.c: event_top_keys[] not found")
        m = re.search(r"route_fields\[\]\s*=\s*\{(.*?)\n\};", route, re.S)
        rows = re.findall(r'\{\s*"([^"]+)"\s*,\s*"([^"]+)"\s*,\s*(ROUTE_\w+)\s*,\s*(true|false)\s*\}',
                          m.group(1)) if m else []
        if not rows:
            self.errors.append("src/route.c: route_fields[] not found")
        self.route_fields = [(n, p, t, top == "true") for n, p, t, top in rows]
        m = re.search(r"field_names\[F_COUNT \+ 1\]\s*=\s*\{(.*?)\};", event, re.S)
        self.event_fields = re.findall(r'\[F_\w+\]\s*=\s*"([^"]+)"', m.group(1)) if m else []
        if not self.event_fields:
            self.errors.append("src/event.c: field_names[] not found")

    def _read(self, path):
        try:
            with open(path, encoding="utf-8") as f:
                return f.read()
        except OSError as e:
            self.errors.append("cannot read %s: %s" % (path, e))
            return ""

    @property
    def indexable(self):
        """Names the relay accepts in indexed_fields (route table minus top-level keys)."""
        return [n for n, _, _, top in self.route_fields if not top and n not in self.top_keys]

    def json_path(self, name):
        for n, p, _, _ in self.route_fields:
            if n == name:
                return p
        return None


# --------------------------------------------------------------------------
# props.conf search-time targets
# --------------------------------------------------------------------------

def props_targets(props, stanza):
    """[(field, mechanism, ASNEW?)] created at search time by one props stanza."""
    out = []
    for key, (value, _) in props.stanzas.get(stanza, {}).items():
        if key.startswith("EXTRACT-"):
            for f in re.findall(r"\(\?P?<([A-Za-z_][A-Za-z0-9_]*)>", value):
                out.append((f, "EXTRACT", False))
        elif key.startswith("FIELDALIAS-"):
            toks = value.split()
            for i in range(0, len(toks) - 2, 3):
                if toks[i + 1].upper() in ("AS", "ASNEW"):
                    out.append((toks[i + 2], "FIELDALIAS", toks[i + 1].upper() == "ASNEW"))
        elif key.startswith("EVAL-"):
            out.append((key[5:], "EVAL", False))
        elif key.startswith("LOOKUP-"):
            m = re.search(r"\bOUTPUT(NEW)?\b(.*)$", value)
            if m:
                toks = m.group(2).split()
                i = 0
                while i < len(toks):
                    if i + 2 < len(toks) and toks[i + 1].upper() == "AS":
                        out.append((toks[i + 2], "LOOKUP", m.group(1) == "NEW"))
                        i += 3
                    else:
                        out.append((toks[i], "LOOKUP", m.group(1) == "NEW"))
                        i += 1
    return out


def parse_lookup_spec(value):
    """'T in [AS ev]... OUTPUT[NEW] out [AS ev]...' -> (T, [(col, evfield)], [(col, evfield)])."""
    m = re.match(r"^\s*(\S+)\s+(.*?)(?:\s+\b(OUTPUT|OUTPUTNEW)\b\s+(.*))?\s*$", value, re.S)
    if not m:
        return None, [], []

    def pairs(s):
        toks, res, i = (s or "").replace(",", " ").split(), [], 0
        while i < len(toks):
            if i + 2 < len(toks) and toks[i + 1].upper() == "AS":
                res.append((toks[i], toks[i + 2]))
                i += 3
            else:
                res.append((toks[i], toks[i]))
                i += 1
        return res
    return m.group(1), pairs(m.group(2)), pairs(m.group(4))


def read_csv(path):
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.reader(f))


def lookup_columns(app, transform):
    t = app.conf("transforms")
    fn = t.get(transform, "filename") if t else None
    if not fn:
        return None
    p = os.path.join(app.dir, "lookups", fn)
    if not os.path.isfile(p):
        return None
    rows = read_csv(p)
    return rows[0] if rows else None


# --------------------------------------------------------------------------
# Views helpers
# --------------------------------------------------------------------------

VIZ = ("table", "chart", "single", "map", "event")
BUILTIN_TOKENS = {"click", "row", "earliest", "latest", "result", "job", "env", "form", "value", "label", "trellis"}
BUILTIN_VIEWS = {"search", "datasets", "reports", "alerts", "dashboards", "analytics_workspace"}


def view_searches(root):
    """Every <search> element with its query text."""
    for s in root.iter("search"):
        q = s.find("query")
        yield s, (q.text or "") if q is not None else None


def tokens_in(text):
    return re.findall(r"\$([^$\s]+)\$", text or "")


def decode_link(link):
    """The SPL of a search?q=... drilldown link, or None."""
    m = re.match(r"^\s*(?:/app/[^/]+/)?search\?(.*)$", link.strip(), re.S)
    if not m:
        return None
    for part in m.group(1).split("&"):
        if part.startswith("q="):
            # dashboard tokens ($row.x|u$) become a plain word for parsing
            return re.sub(r"\$[^$\s]+\$", "$tok$", urllib.parse.unquote(part[2:]))
    return None


# --------------------------------------------------------------------------
# Checks: .conf.spec
# --------------------------------------------------------------------------

def conf_specs(app):
    specs = {}
    for name in list(app.confs) + ["default.meta"]:
        fn = name + ".spec" if name == "default.meta" else name + ".conf.spec"
        p = os.path.join(app.spec_dir, fn)
        specs[name] = Spec(p) if os.path.isfile(p) else None
    return specs


@check("spec.syntax")
def check_spec_syntax(app, facts, r):
    for name, c in sorted(app.confs.items()):
        r.ok("spec.syntax", not c.errors, "%s.conf: %s" % (name, "; ".join(c.errors)))
    if app.meta:
        r.ok("spec.syntax", not app.meta.errors, "default.meta: %s" % "; ".join(app.meta.errors))


@check("spec.settings")
def check_spec_settings(app, facts, r):
    specs = conf_specs(app)
    items = [(n, c) for n, c in sorted(app.confs.items())]
    if app.meta:
        items.append(("default.meta", app.meta))
    for name, c in items:
        spec = specs.get(name)
        if not r.ok("spec.settings", spec is not None,
                    "%s: no %s.conf.spec in %s (not a Splunk .conf type?)" % (name, name, app.spec_dir)):
            continue
        for st in c.order + (["default"] if "default" in c.stanzas and "default" not in c.order else []):
            r.ok("spec.settings", st == "default" or spec.stanza_candidates(st),
                 "%s: stanza [%s] matches no stanza of %s" % (name, st, os.path.basename(spec.path)))
            for key, (value, ln) in c.stanzas[st].items():
                r.ok("spec.settings", spec.setting(st, key) is not None,
                     "%s line %d: [%s] %s is not a setting in %s" % (name, ln, st, key,
                                                                    os.path.basename(spec.path)))
    # action.<name>.<param>: the parameter must exist in alert_actions.conf [<name>]
    ss = app.conf("savedsearches")
    aa_path = os.path.join(app.spec_dir, "alert_actions.conf.spec")
    if ss and os.path.isfile(aa_path):
        aa = Spec(aa_path)
        for st, key, value, ln in ss.items():
            m = re.match(r"^action\.(email|script|lookup|summary_index|populate_lookup)\.(.+)$", key)
            if m and spec_savedsearch_explicit(specs["savedsearches"], key) is None:
                r.ok("spec.settings", m.group(2) in aa.stanzas.get(m.group(1), {}) or
                     any("<" in k and spec_pattern(k).match(m.group(2)) for k in aa.stanzas.get(m.group(1), {})),
                     "savedsearches line %d: [%s] %s: %s is not a parameter of alert action [%s] "
                     "(alert_actions.conf.spec)" % (ln, st, key, m.group(2), m.group(1)))


def spec_savedsearch_explicit(spec, key):
    for st in spec.stanzas.values():
        if key in st:
            return st[key]
    return None


BOOL_VALUES = {"true", "false", "1", "0", "t", "f", "yes", "no", "y", "n", "on", "off"}


@check("spec.values")
def check_spec_values(app, facts, r):
    specs = conf_specs(app)
    for name, c in sorted(app.confs.items()):
        spec = specs.get(name)
        if not spec:
            continue
        for st, key, value, ln in c.items():
            syntax = spec.setting(st, key) or ""
            where = "%s line %d: [%s] %s = %r" % (name, ln, st, key, value)
            if syntax.startswith("<boolean>") or syntax in ("true|false", "[true|false]"):
                r.ok("spec.values", value.lower() in BOOL_VALUES, where + " is not a boolean")
            elif re.match(r"^<(positive |non-negative )?integer>$|^<int>$", syntax):
                r.ok("spec.values", re.match(r"^-?\d+$", value) is not None, where + " is not an integer")
            elif syntax.startswith("[") and syntax.endswith("]") and "|" in syntax and "<" not in syntax:
                choices = [x.strip() for x in syntax[1:-1].split("|")]
                r.ok("spec.values", value in choices, where + " is not one of %s" % syntax)


# --------------------------------------------------------------------------
# Checks: AppInspect packaging rules (splunk-app.md §6)
# --------------------------------------------------------------------------

def walk_app(app_dir):
    for dp, dns, fns in os.walk(app_dir):
        for n in dns + fns:
            yield os.path.join(dp, n), os.path.relpath(os.path.join(dp, n), app_dir)


@check("appinspect.structure")
def check_structure(app, facts, r):
    d = app.dir
    r.ok("appinspect.structure", not os.path.exists(os.path.join(d, "local")),
         "local/ exists (check_that_local_does_not_exist): ship default/ only")
    r.ok("appinspect.structure", not os.path.exists(os.path.join(d, "metadata", "local.meta")),
         "metadata/local.meta exists (check_for_local_meta)")
    r.ok("appinspect.structure", not os.path.exists(os.path.join(d, "default", "data", "ui", "html")),
         "default/data/ui/html exists (check_html_dashboards)")
    r.ok("appinspect.structure", not os.path.exists(os.path.join(d, "bin")),
         "bin/ exists: this is a configuration-only app")
    r.ok("appinspect.structure", os.path.isfile(os.path.join(d, "default", "app.conf")),
         "default/app.conf missing")
    r.ok("appinspect.structure", app.meta is not None, "metadata/default.meta missing")
    r.ok("appinspect.structure", os.path.isfile(os.path.join(d, "README.md")),
         "README.md missing in the app folder")
    r.ok("appinspect.structure", not os.path.isfile(os.path.join(d, "README")),
         "a bare README file is not allowed (README.md, or README/ for spec files)")
    readme_dir = os.path.join(d, "README")
    if os.path.isdir(readme_dir):
        for fn in os.listdir(readme_dir):
            r.ok("appinspect.structure", fn.endswith(".conf.spec"),
                 "README/%s: README/ holds only .conf.spec files" % fn)


@check("appinspect.files")
def check_files(app, facts, r):
    for path, rel in walk_app(app.dir):
        parts = rel.split(os.sep)
        base = parts[-1]
        r.ok("appinspect.files", not any(p.startswith(".") for p in parts),
             "%s: hidden file or folder (prohibited in a package)" % rel)
        r.ok("appinspect.files", "__MACOSX" not in parts and "__pycache__" not in parts,
             "%s: prohibited folder" % rel)
        r.ok("appinspect.files", not base.endswith((".pyc", ".pyo")), "%s: compiled Python" % rel)
        r.ok("appinspect.files", " " not in base, "%s: space in file name (check_filenames_for_spaces)" % rel)
        r.ok("appinspect.files", not os.path.islink(path), "%s: symbolic link" % rel)
        if os.path.isfile(path) and parts[0] != "bin":
            r.ok("appinspect.files", not (os.stat(path).st_mode & 0o111),
                 "%s: executable bit outside bin/ (check_for_executable_flag)" % rel)


SEMVER = re.compile(r"^\d+\.\d+\.\d+$")
PROHIBITED_IDS = {"CON", "PRN", "AUX", "NUL"} | {"COM%d" % i for i in range(1, 10)} | \
                 {"LPT%d" % i for i in range(1, 10)}
BUILTIN_CONFS = {"props", "transforms", "eventtypes", "tags", "macros", "savedsearches",
                 "fields", "app", "inputs", "outputs", "indexes", "server", "web",
                 "authorize", "limits", "alert_actions", "commands", "collections", "datamodels"}


@check("appinspect.app_conf")
def check_app_conf(app, facts, r):
    c = app.conf("app")
    if not r.ok("appinspect.app_conf", c is not None, "default/app.conf missing"):
        return
    folder = os.path.basename(os.path.normpath(app.dir))
    pid = c.get("package", "id")
    r.ok("appinspect.app_conf", pid == folder,
         "[package] id = %r must equal the folder name %r (check_for_valid_package_id)" % (pid, folder))
    r.ok("appinspect.app_conf", bool(pid) and re.match(r"^[A-Za-z][A-Za-z0-9._]*$", pid or "") is not None
         and not (pid or "").endswith(".") and (pid or "").upper() not in PROHIBITED_IDS,
         "[package] id %r: letters, digits, '.', '_' only, no leading digit, no trailing dot" % pid)
    r.ok("appinspect.app_conf", c.get("package", "check_for_updates") is not None,
         "[package] check_for_updates not set")
    r.ok("appinspect.app_conf", c.get("id", "name") == pid, "[id] name must equal [package] id")
    lv, iv = c.get("launcher", "version"), c.get("id", "version")
    r.ok("appinspect.app_conf", bool(lv) and SEMVER.match(lv) is not None,
         "[launcher] version %r is not semver (check_version_is_valid_semver)" % lv)
    r.ok("appinspect.app_conf", iv == lv, "[id] version %r != [launcher] version %r" % (iv, lv))
    r.ok("appinspect.app_conf", bool(c.get("launcher", "author")), "[launcher] author missing")
    desc = c.get("launcher", "description") or ""
    r.ok("appinspect.app_conf", 0 < len(desc) < 200,
         "[launcher] description must be 1..199 characters (has %d)" % len(desc))
    label = c.get("ui", "label") or ""
    r.ok("appinspect.app_conf", 5 <= len(label) <= 80 and not label.lower().startswith("splunk for"),
         "[ui] label %r: 5-80 characters, not 'Splunk for ...' (check_for_valid_ui_label)" % label)
    build = c.get("install", "build") or ""
    r.ok("appinspect.app_conf", re.match(r"^[1-9]\d*$", build) is not None,
         "[install] build %r must be a positive integer" % build)
    r.ok("appinspect.app_conf", c.get("install", "is_configured") in ("false", "0"),
         "[install] is_configured should be false")
    for st, key, value, ln in c.items():
        r.ok("appinspect.app_conf", key not in ("install_source_checksum", "install_source_local_checksum"),
             "app.conf line %d: %s must not be set (check_no_install_source_checksum)" % (ln, key))
        if st == "triggers" and key.startswith("reload."):
            r.ok("appinspect.app_conf", key.split(".")[1] not in BUILTIN_CONFS,
                 "app.conf line %d: [triggers] %s for a built-in conf (check_for_trigger_stanza)" % (ln, key))


@check("appinspect.meta")
def check_meta(app, facts, r):
    m = app.meta
    if not r.ok("appinspect.meta", m is not None and "" in m.stanzas,
                "metadata/default.meta needs a global [] stanza"):
        return
    acc = m.get("", "access") or ""
    am = re.match(r"^\s*read\s*:\s*\[([^\]]*)\]\s*,\s*write\s*:\s*\[([^\]]*)\]\s*$", acc)
    if not r.ok("appinspect.meta", am is not None, "[] access %r: want read : [ ... ], write : [ ... ]" % acc):
        return
    read = {x.strip() for x in am.group(1).split(",")}
    write = {x.strip() for x in am.group(2).split(",")}
    r.ok("appinspect.meta", "*" in read, "[] access: read should include * (check_kos_are_accessible)")
    r.ok("appinspect.meta", "*" not in write and {"admin", "sc_admin"} <= write,
         "[] access: write must be admin, sc_admin, never * (check_meta_default_write_access)")
    r.ok("appinspect.meta", m.get("", "export") == "system",
         "[] export = system needed so CIM data models and other apps see the knowledge objects")
    for st in m.order:
        for key, (value, ln) in m.stanzas[st].items():
            if key == "access":
                w = re.search(r"write\s*:\s*\[([^\]]*)\]", value)
                r.ok("appinspect.meta", not w or "*" not in w.group(1),
                     "default.meta line %d: [%s] write : [ * ]" % (ln, st))


def png_size(path):
    with open(path, "rb") as f:
        head = f.read(24)
    if len(head) < 24 or head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        return None
    return struct.unpack(">II", head[16:24])


@check("appinspect.icons")
def check_icons(app, facts, r):
    for fn, size in (("appIcon.png", 36), ("appIcon_2x.png", 72),
                     ("appIconAlt.png", 36), ("appIconAlt_2x.png", 72)):
        p = os.path.join(app.dir, "static", fn)
        if r.ok("appinspect.icons", os.path.isfile(p), "static/%s missing" % fn):
            r.ok("appinspect.icons", png_size(p) == (size, size),
                 "static/%s: want a %dx%d PNG, got %s" % (fn, size, size, png_size(p)))


# --------------------------------------------------------------------------
# Checks: views and nav
# --------------------------------------------------------------------------

@check("views.xml")
def check_views_xml(app, facts, r):
    r.ok("views.xml", len(app.views) >= 7, "expected at least 7 dashboards, found %d" % len(app.views))
    for name, (root, err) in sorted(app.views.items()):
        if not r.ok("views.xml", root is not None, "%s.xml does not parse: %s" % (name, err)):
            continue
        r.ok("views.xml", root.tag in ("dashboard", "form"),
             "%s.xml: root <%s>, want <dashboard> or <form> (Simple XML)" % (name, root.tag))
        r.ok("views.xml", root.get("version") == "1.1",
             "%s.xml: version=%r, want \"1.1\" (check_simplexml_standards_version)" % (name, root.get("version")))
        lab = root.find("label")
        r.ok("views.xml", lab is not None and (lab.text or "").strip(), "%s.xml: <label> missing" % name)
        r.ok("views.xml", re.match(r"^[a-z0-9_]+$", name) is not None,
             "%s.xml: view names are lower-case letters, digits and _" % name)
        for el in root.iter():
            r.ok("views.xml", el.tag != "script" and not (el.tag in ("dashboard", "form") and el.get("script")),
                 "%s.xml: custom JavaScript is not allowed" % name)


@check("views.macros")
def check_views_macros(app, facts, r):
    for name, (root, err) in sorted(app.views.items()):
        if root is None:
            continue
        ids = {s.get("id") for s in root.iter("search") if s.get("id")}
        for s, q in view_searches(root):
            if s.get("base"):
                r.ok("views.macros", s.get("base") in ids,
                     "%s.xml: post-process search names unknown base %r" % (name, s.get("base")))
                continue
            if s.get("ref"):
                r.ok("views.macros", False, "%s.xml: <search ref=...> (saved-search panels) not used here" % name)
                continue
            if not r.ok("views.macros", q is not None and q.strip(), "%s.xml: <search> without <query>" % name):
                continue
            short = " ".join(q.split())[:70]
            r.ok("views.macros", expands_to(app, q),
                 "%s.xml: search does not use the `clawdstrike_index` macro (directly or via "
                 "`clawdstrike_events` etc.): %s" % (name, short))
            r.ok("views.macros", not LITERAL_INDEX_RX.search(q),
                 "%s.xml: search hard-codes an index: %s" % (name, short))
            for p in spl_problems(q):
                r.ok("views.macros", False, "%s.xml: SPL problem (%s): %s" % (name, p, short))
            if s.find("earliest") is None and not re.search(r"\bearliest\s*=", q):
                r.ok("views.macros", False, "%s.xml: search without a time range: %s" % (name, short))


@check("views.drilldown")
def check_views_drilldown(app, facts, r):
    for name, (root, err) in sorted(app.views.items()):
        if root is None:
            continue
        for panel in root.iter("panel"):
            for viz in panel:
                if viz.tag not in VIZ:
                    continue
                title = (viz.findtext("title") or "?").strip()
                dd = viz.find("drilldown")
                opt_none = any(o.get("name") == "drilldown" and (o.text or "").strip() == "none"
                               for o in viz.findall("option"))
                if not r.ok("views.drilldown", dd is not None and not opt_none and
                            (dd.find("link") is not None or dd.find("set") is not None
                             or dd.find("condition") is not None),
                            "%s.xml: panel %r has no drilldown to its events" % (name, title)):
                    continue
                for link in dd.iter("link"):
                    url = (link.text or "").strip()
                    spl = decode_link(url)
                    if spl is not None:
                        r.ok("views.drilldown", expands_to(app, spl),
                             "%s.xml: panel %r drilldown search does not use the clawdstrike macros" % (name, title))
                        r.ok("views.drilldown", not LITERAL_INDEX_RX.search(spl),
                             "%s.xml: panel %r drilldown hard-codes an index" % (name, title))
                        for p in spl_problems(spl):
                            r.ok("views.drilldown", False,
                                 "%s.xml: panel %r drilldown SPL problem: %s" % (name, title, p))
                        r.ok("views.drilldown", "earliest=" in url and "latest=" in url,
                             "%s.xml: panel %r drilldown loses the time range" % (name, title))
                    else:
                        target = re.split(r"[?#]", url)[0].split("/")[-1]
                        r.ok("views.drilldown", target in app.views or target in BUILTIN_VIEWS,
                             "%s.xml: panel %r drilldown links to unknown view %r" % (name, title, target))


@check("views.tokens")
def check_views_tokens(app, facts, r):
    for name, (root, err) in sorted(app.views.items()):
        if root is None:
            continue
        defined = set()
        for el in root.iter():
            if el.tag == "input" and el.get("token"):
                defined.add(el.get("token"))
            if el.tag in ("set", "eval", "unset") and el.get("token"):
                defined.add(el.get("token").split(".", 1)[-1] if el.get("token").startswith("form.")
                            else el.get("token"))
        used = []
        for s, q in view_searches(root):
            for child in ("query", "earliest", "latest"):
                used += [(t, "search") for t in tokens_in(s.findtext(child))]
        for link in root.iter("link"):
            used += [(t, "drilldown") for t in tokens_in(link.text)]
        for st in root.iter("set"):
            used += [(t, "drilldown") for t in tokens_in(st.text)]
        for t, where in used:
            base = t.split("|")[0]
            head = base.split(".")[0].split(":")[0]
            ok = base in defined or head in defined or head in BUILTIN_TOKENS
            if where == "search":
                ok = ok and head not in ("click", "row")
            r.ok("views.tokens", ok, "%s.xml: token $%s$ (%s) is never defined" % (name, t, where))


@check("nav")
def check_nav(app, facts, r):
    p = os.path.join(app.dir, "default", "data", "ui", "nav", "default.xml")
    if not r.ok("nav", os.path.isfile(p), "default/data/ui/nav/default.xml missing"):
        return
    try:
        root = ET.parse(p).getroot()
    except ET.ParseError as e:
        r.ok("nav", False, "nav/default.xml does not parse: %s" % e)
        return
    r.ok("nav", root.tag == "nav", "nav/default.xml: root must be <nav>")
    ss = app.conf("savedsearches")
    defaults = [v for v in root.iter("view") if v.get("default") == "true"]
    r.ok("nav", len(defaults) == 1, "nav: exactly one <view default=\"true\"/> wanted, found %d" % len(defaults))
    listed = set()
    for v in root.iter("view"):
        n = v.get("name")
        listed.add(n)
        r.ok("nav", n in app.views or n in BUILTIN_VIEWS, "nav: view %r does not exist" % n)
    for s in root.iter("saved"):
        if s.get("name"):
            r.ok("nav", ss is not None and s.get("name") in ss.stanzas,
                 "nav: saved search %r does not exist" % s.get("name"))
    for v in app.views:
        r.ok("nav", v in listed, "nav: dashboard %r is not reachable from the nav" % v)


# --------------------------------------------------------------------------
# Checks: lookups, macros, eventtypes/tags
# --------------------------------------------------------------------------

@check("lookups.files")
def check_lookup_files(app, facts, r):
    t = app.conf("transforms")
    if not r.ok("lookups.files", t is not None, "default/transforms.conf missing"):
        return
    named = set()
    for st in t.order:
        fn = t.get(st, "filename")
        if fn is None:
            continue
        named.add(fn)
        p = os.path.join(app.dir, "lookups", fn)
        if not r.ok("lookups.files", os.path.isfile(p),
                    "transforms [%s] filename = %s: lookups/%s does not exist" % (st, fn, fn)):
            continue
        try:
            rows = read_csv(p)
        except (UnicodeDecodeError, csv.Error) as e:
            r.ok("lookups.files", False, "lookups/%s: not a readable CSV: %s" % (fn, e))
            continue
        if not r.ok("lookups.files", len(rows) >= 2, "lookups/%s: needs a header row and data" % fn):
            continue
        header = rows[0]
        r.ok("lookups.files", all(re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", h) for h in header)
             and len(set(header)) == len(header),
             "lookups/%s: header row %r is not a list of unique field names" % (fn, header))
        bad = [i + 1 for i, row in enumerate(rows) if len(row) != len(header)]
        r.ok("lookups.files", not bad, "lookups/%s: rows %s have the wrong number of columns" % (fn, bad[:5]))
        keys = [row[0] for row in rows[1:]]
        r.ok("lookups.files", len(set(keys)) == len(keys), "lookups/%s: duplicate keys in column %s" % (fn, header[0]))
        if fn.startswith("mitre_"):
            r.ok("lookups.files", os.path.isfile(os.path.join(app.dir, "lookups", "MITRE-NOTICE.md")),
                 "lookups/%s ships without lookups/MITRE-NOTICE.md (MITRE's licence terms)" % fn)
    ldir = os.path.join(app.dir, "lookups")
    if os.path.isdir(ldir):
        for fn in os.listdir(ldir):
            if fn.endswith(".csv"):
                r.ok("lookups.files", fn in named, "lookups/%s is not named by any transforms stanza" % fn)


@check("lookups.refs")
def check_lookup_refs(app, facts, r):
    t = app.conf("transforms")
    props = app.conf("props")
    if props:
        for st, key, value, ln in props.items():
            if not key.startswith("LOOKUP-"):
                continue
            tname, ins, outs = parse_lookup_spec(value)
            cols = lookup_columns(app, tname)
            if not r.ok("lookups.refs", t is not None and tname in t.stanzas and cols,
                        "props line %d: %s names transform %r with no lookup file" % (ln, key, tname)):
                continue
            for col, _ in ins + outs:
                r.ok("lookups.refs", col in cols,
                     "props line %d: %s: %r is not a column of %s" % (ln, key, col, tname))
    texts = []
    ss = app.conf("savedsearches")
    if ss:
        texts += [("savedsearches [%s]" % st, ss.get(st, "search") or "") for st in ss.order]
    for name, (root, _) in app.views.items():
        if root is not None:
            texts += [("%s.xml" % name, q or "") for _, q in view_searches(root)]
    for where, q in texts:
        for m in re.finditer(r"\|\s*(lookup|inputlookup)\s+(?:\w+=\S+\s+)*([A-Za-z0-9_.]+)([^|\]]*)", q):
            tname = m.group(2)
            cols = lookup_columns(app, tname)
            if not r.ok("lookups.refs", cols is not None,
                        "%s: %s %s: no such lookup" % (where, m.group(1), tname)):
                continue
            if m.group(1) == "lookup":
                _, ins, outs = parse_lookup_spec(tname + " " + m.group(3))
                for col, _ in ins + outs:
                    r.ok("lookups.refs", col in cols, "%s: lookup %s: %r is not a column" % (where, tname, col))


@check("macros")
def check_macros(app, facts, r):
    macros = app.macros()
    r.ok("macros", "clawdstrike_index" in macros, "macros.conf: `clawdstrike_index` is not defined")
    idx = macros.get("clawdstrike_index", {}).get("definition", ("", 0))[0]
    r.ok("macros", facts.index == "" or re.search(r"\bindex\s*=\s*\"?%s\"?(\s|\)|$)" % re.escape(facts.index), idx),
         "macros.conf: `clawdstrike_index` = %r does not name the relay's default index %r"
         % (idx, facts.index))
    texts = [("macros [%s]" % st, macros[st].get("definition", ("", 0))[0]) for st in macros]
    for conf, key in (("savedsearches", "search"), ("eventtypes", "search")):
        c = app.conf(conf)
        if c:
            texts += [("%s [%s]" % (conf, st), c.get(st, key) or "") for st in c.order]
    for name, (root, _) in app.views.items():
        if root is None:
            continue
        texts += [("%s.xml" % name, q or "") for _, q in view_searches(root)]
        texts += [("%s.xml drilldown" % name, decode_link(l.text or "") or "") for l in root.iter("link")]
    for where, text in texts:
        for stanza, name, n in macro_refs(text):
            r.ok("macros", stanza in macros, "%s: macro `%s` (%d args) is not defined" % (where, name, n))
    for st, settings in macros.items():
        m = re.match(r"^[A-Za-z0-9_]+(?:\((\d+)\))?$", st)
        if not r.ok("macros", m is not None, "macros.conf: bad macro stanza name [%s]" % st):
            continue
        n = int(m.group(1) or 0)
        args = [a.strip() for a in settings.get("args", ("", 0))[0].split(",") if a.strip()]
        r.ok("macros", len(args) == n, "macros.conf [%s]: %d args declared, stanza says %d" % (st, len(args), n))
        d = settings.get("definition", ("", 0))[0]
        r.ok("macros", bool(d.strip()), "macros.conf [%s]: empty definition" % st)
        for a in args:
            r.ok("macros", "$%s$" % a in d, "macros.conf [%s]: argument %s unused" % (st, a))
        r.ok("macros", not expands_to(app, d, st.split("(")[0]),
             "macros.conf [%s]: expands to itself (cycle)" % st)


@check("eventtypes")
def check_eventtypes(app, facts, r):
    et = app.conf("eventtypes")
    tags = app.conf("tags")
    if not r.ok("eventtypes", et is not None and tags is not None, "eventtypes.conf or tags.conf missing"):
        return
    for st in et.order:
        s = et.get(st, "search") or ""
        r.ok("eventtypes", s and "|" not in s, "eventtypes [%s]: search must be non-empty and without pipes" % st)
        r.ok("eventtypes", not LITERAL_INDEX_RX.search(s), "eventtypes [%s]: no index in event types" % st)
        r.ok("eventtypes", not spl_problems(s), "eventtypes [%s]: %s" % (st, spl_problems(s)))
    cim = Spec(os.path.join(app.spec_dir, "tags.conf.cim.spec"))
    cim_tags = set(cim.stanzas[None])
    for st in tags.order:
        m = re.match(r"^eventtype=(.+)$", st)
        if m:
            r.ok("eventtypes", m.group(1) in et.stanzas, "tags [%s]: no such eventtype" % st)
        for key, (value, ln) in tags.stanzas[st].items():
            r.ok("eventtypes", key in cim_tags, "tags line %d: %s is not a CIM tag (tags.conf.cim.spec)" % (ln, key))
            r.ok("eventtypes", value in ("enabled", "disabled"), "tags line %d: %s = %s" % (ln, key, value))
    r.ok("eventtypes", tags.get("eventtype=clawdstrike_alert", "alert") == "enabled",
         "tags: eventtype clawdstrike_alert must be tagged alert (CIM Alerts)")


# --------------------------------------------------------------------------
# Checks: saved searches
# --------------------------------------------------------------------------

def cron_ok(expr):
    f = expr.split()
    if len(f) != 5:
        return False
    ranges = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 7)]
    for field, (lo, hi) in zip(f, ranges):
        for part in field.split(","):
            m = re.match(r"^(\*|\d+(?:-\d+)?)(?:/(\d+))?$", part)
            if not m:
                return False
            for n in re.findall(r"\d+", m.group(1)):
                if not lo <= int(n) <= hi:
                    return False
    return True


def truthy(v):
    return (v or "").strip().lower() in ("1", "true", "t", "yes")


@check("searches.parse")
def check_searches_parse(app, facts, r):
    ss = app.conf("savedsearches")
    if not r.ok("searches.parse", ss is not None, "default/savedsearches.conf missing"):
        return
    for st in ss.order:
        q = ss.get(st, "search")
        if not r.ok("searches.parse", q, "savedsearches [%s]: no search" % st):
            continue
        for p in spl_problems(q):
            r.ok("searches.parse", False, "savedsearches [%s]: %s" % (st, p))
        r.ok("searches.parse", expands_to(app, q),
             "savedsearches [%s]: does not use the `clawdstrike_index` macro" % st)
        r.ok("searches.parse", not LITERAL_INDEX_RX.search(q), "savedsearches [%s]: hard-codes an index" % st)


@check("searches.schedule")
def check_searches_schedule(app, facts, r):
    ss = app.conf("savedsearches")
    if not ss:
        return
    for st in ss.order:
        g = lambda k, d=None: ss.get(st, k, d)
        for k in ("dispatch.earliest_time", "dispatch.latest_time", "dispatch.index_earliest",
                  "dispatch.index_latest"):
            r.ok("searches.schedule", not (g(k) or "").strip().lower().startswith("rt"),
                 "savedsearches [%s]: %s = %s is real-time" % (st, k, g(k)))
        r.ok("searches.schedule", not truthy(g("realtime_schedule", "")) or not truthy(g("enableSched")),
             "savedsearches [%s]: realtime_schedule" % st)
        if not truthy(g("enableSched")):
            continue
        r.ok("searches.schedule", cron_ok(g("cron_schedule", "")),
             "savedsearches [%s]: cron_schedule %r is not a 5-field cron" % (st, g("cron_schedule")))
        r.ok("searches.schedule", bool(g("dispatch.earliest_time")),
             "savedsearches [%s]: scheduled without dispatch.earliest_time "
             "(check_for_sched_saved_searches_earliest_time)" % st)
        is_alert = g("counttype") is not None or g("alert_condition") is not None or truthy(g("alert.track"))
        if is_alert:
            r.ok("searches.schedule", truthy(g("alert.suppress")) and bool(g("alert.suppress.period")),
                 "savedsearches [%s]: alert is not throttled (alert.suppress, alert.suppress.period)" % st)
            if (g("alert.digest_mode") or "1").strip() in ("0", "false") and truthy(g("alert.suppress")):
                r.ok("searches.schedule", bool(g("alert.suppress.fields")),
                     "savedsearches [%s]: per-result alert throttling needs alert.suppress.fields" % st)
                fields = [f.strip() for f in (g("alert.suppress.fields") or "").split(",") if f.strip()]
                q = g("search") or ""
                for f in fields:
                    r.ok("searches.schedule", re.search(r"\b%s\b" % re.escape(f), q) is not None,
                         "savedsearches [%s]: suppress field %s is not in the results" % (st, f))
        if truthy(g("action.email")) and not truthy(g("disabled")):
            r.ok("searches.schedule", bool((g("action.email.to") or "").strip()),
                 "savedsearches [%s]: enabled email action without recipients" % st)


@check("searches.required")
def check_searches_required(app, facts, r):
    ss = app.conf("savedsearches")
    if not ss:
        return

    def find(pred):
        return [st for st in ss.order if pred(lambda k, d=None, st=st: ss.get(st, k, d))]
    crit = find(lambda g: truthy(g("enableSched")) and re.search(r"\bseverity\s*=\s*\"?critical", g("search", ""))
                and g("counttype") is not None)
    r.ok("searches.required", len(crit) >= 1, "no scheduled alert on severity=critical (SPL-4)")
    for st in crit:
        g = lambda k, d=None: ss.get(st, k, d)
        r.ok("searches.required", truthy(g("alert.suppress")), "[%s]: critical alert not throttled" % st)
        r.ok("searches.required", not truthy(g("disabled")), "[%s]: critical alert ships disabled" % st)
    r.ok("searches.required",
         find(lambda g: truthy(g("enableSched")) and "clawdstrike_denials" in g("search", "")
              and "by agent_id" in g("search", "") and g("counttype") is not None),
         "no scheduled alert for a burst of denials per agent")
    r.ok("searches.required",
         find(lambda g: truthy(g("enableSched")) and "_indextime" in g("search", "")
              and "event_id" in g("search", "") and g("counttype") is not None),
         "no scheduled alert for relay delivery problems (delay/duplicates)")
    rep = find(lambda g: truthy(g("action.email.sendpdf")) and truthy(g("action.email.sendcsv")))
    if r.ok("searches.required", rep, "no compliance report with PDF and CSV email actions (SPL-5)"):
        for st in rep:
            g = lambda k, d=None: ss.get(st, k, d)
            r.ok("searches.required", truthy(g("disabled")), "[%s]: compliance report must ship disabled" % st)
            r.ok("searches.required", not (g("action.email.to") or "").strip(),
                 "[%s]: compliance report must ship without recipients" % st)
            r.ok("searches.required", truthy(g("enableSched")) and (g("cron_schedule") or "").split()[-1:] != ["*"],
                 "[%s]: compliance report must be scheduled weekly" % st)
            r.ok("searches.required", "event_id" in (g("search") or ""),
                 "[%s]: compliance report must count duplicates by event_id" % st)


# --------------------------------------------------------------------------
# Checks: agreement with the relay
# --------------------------------------------------------------------------

@check("relay.source")
def check_relay_source(app, facts, r):
    for e in facts.errors:
        r.ok("relay.source", False, e)
    r.ok("relay.source", len(facts.indexed_default) > 0, "no default indexed_fields parsed from src/config.c")
    r.ok("relay.source", sorted(facts.event_fields) == sorted(n for n, _, _, _ in facts.route_fields),
         "src/event.c field_names[] and src/route.c route_fields[] disagree")
    for f in facts.indexed_default:
        r.ok("relay.source", f in facts.indexable,
             "relay default indexed field %s is not an indexable route field" % f)


def indexed_fields_conf(app):
    """{(sourcetype or None, field): INDEXED value} from fields.conf."""
    fc = app.conf("fields")
    out = {}
    if not fc:
        return out
    for st in fc.order:
        m = re.match(r"^sourcetype::(.+)::([^:]+)$", st)
        key = (m.group(1), m.group(2)) if m else (None, st)
        out[key] = fc.get(st, "INDEXED")
    return out


@check("relay.indexed")
def check_relay_indexed(app, facts, r):
    fc = indexed_fields_conf(app)
    sts = app.props_stanzas()
    r.ok("relay.indexed", bool(fc), "default/fields.conf missing or empty")
    for st in sts:
        for f in facts.indexed_default:
            r.ok("relay.indexed", truthy(fc.get((st, f))),
                 "fields.conf: [sourcetype::%s::%s] INDEXED = true missing (relay indexes %s by default)"
                 % (st, f, f))
    for (st, f), v in fc.items():
        r.ok("relay.indexed", st is not None,
             "fields.conf: [%s] is global; scope it to the Clawdstrike sourcetypes "
             "([sourcetype::clawdstrike:security::%s]) so other data's %s= searches keep working" % (f, f, f))
        if truthy(v):
            r.ok("relay.indexed", f in facts.indexable,
                 "fields.conf: %s is INDEXED = true but the relay never sends it as an indexed field" % f)
            r.ok("relay.indexed", st is None or st in sts,
                 "fields.conf: sourcetype %s has no props.conf stanza" % st)


@check("relay.no_duplicates")
def check_relay_no_duplicates(app, facts, r):
    props = app.conf("props")
    if not r.ok("relay.no_duplicates", props is not None, "default/props.conf missing"):
        return
    default = set(facts.indexed_default)
    optional = set(facts.indexable) - default
    for st in props.order:
        for field, mech, asnew in props_targets(props, st):
            r.ok("relay.no_duplicates", field not in default,
                 "props [%s]: %s creates %s at search time, but the relay sends %s as an indexed field: "
                 "it would exist twice" % (st, mech, field, field))
            if field in optional:
                r.ok("relay.no_duplicates", mech == "FIELDALIAS" and asnew,
                     "props [%s]: %s is indexable (exporters.splunk.indexed_fields); create it with "
                     "FIELDALIAS ... ASNEW so an indexed copy is never duplicated" % (st, field))
            r.ok("relay.no_duplicates", field not in facts.top_keys or (mech == "EVAL" and field == "action"),
                 "props [%s]: %s re-creates the top-level JSON key %s (KV_MODE=json extracts it)"
                 % (st, mech, field))


@check("relay.sourcetypes")
def check_relay_sourcetypes(app, facts, r):
    props = app.conf("props")
    if not props:
        return
    sts = app.props_stanzas()
    r.ok("relay.sourcetypes", facts.sourcetype in sts,
         "props.conf has no stanza for the relay's default sourcetype %r" % facts.sourcetype)
    for extra in ("clawdstrike:critical", "clawdstrike:high"):
        r.ok("relay.sourcetypes", extra in sts, "props.conf: no stanza for routed sourcetype %s (seed routing)" % extra)
    base = props.stanzas.get(facts.sourcetype, {})
    strip = lambda d: {k: v for k, (v, _) in d.items()}
    for st in sts:
        r.ok("relay.sourcetypes", strip(props.stanzas[st]) == strip(base),
             "props [%s] differs from [%s]: the Clawdstrike stanzas must stay identical" % (st, facts.sourcetype))
        s = props.stanzas[st]
        r.ok("relay.sourcetypes", s.get("KV_MODE", ("",))[0] == "json", "props [%s]: KV_MODE = json wanted" % st)
        for k in s:
            r.ok("relay.sourcetypes", k not in ("INDEXED_EXTRACTIONS", "LINE_BREAKER", "SHOULD_LINEMERGE",
                                                "TIME_PREFIX", "TIME_FORMAT", "MAX_TIMESTAMP_LOOKAHEAD",
                                                "DATETIME_CONFIG", "TRUNCATE") and not k.startswith("TRANSFORMS-"),
                 "props [%s]: %s has no effect on (or harms) HEC /event JSON" % (st, k))
    macros = app.macros()
    stm = macros.get("clawdstrike_sourcetypes", {}).get("definition", ("", 0))[0]
    m = re.search(r'sourcetype\s*=\s*"?([^"\s)]+)', stm)
    if r.ok("relay.sourcetypes", m is not None, "macro clawdstrike_sourcetypes names no sourcetype"):
        rx = re.compile("^" + re.escape(m.group(1)).replace(r"\*", ".*") + "$")
        for st in sts:
            r.ok("relay.sourcetypes", rx.match(st) is not None,
                 "macro clawdstrike_sourcetypes (%s) does not cover %s" % (m.group(1), st))


def searchable_fields(app, facts):
    names = set(facts.indexed_default) | set(facts.top_keys) | {"_time", "host", "source", "sourcetype", "index"}
    props = app.conf("props")
    if props:
        for st in app.props_stanzas():
            names |= {f for f, _, _ in props_targets(props, st)}
    return names


@check("relay.seed_fields")
def check_relay_seed_fields(app, facts, r):
    names = searchable_fields(app, facts)
    for n, path, _, _ in facts.route_fields:
        r.ok("relay.seed_fields", n in names,
             "seed field %s (%s) is neither indexed by default, a top-level JSON key, nor created in props.conf"
             % (n, path))
    for alias in ("resource_host",):
        r.ok("relay.seed_fields", alias in names, "seed search field %s is not defined (alias of resource.host)" % alias)
    # CIM Alerts fields (splunk-app.md 2.3)
    for f in ("app", "description", "dest", "id", "signature", "signature_id", "severity", "src", "type", "user",
              "vendor_product", "action", "mitre_technique_id", "severity_id"):
        r.ok("relay.seed_fields", f in names, "CIM Alerts field %s is not produced" % f)


# --------------------------------------------------------------------------
# Checks: the seed's searches
# --------------------------------------------------------------------------

def seed_blocks(path):
    blocks, cur = [], None
    with open(path, encoding="utf-8") as f:
        for line in f:
            m = re.match(r"^## (report|panel): (.+?)\s*$", line)
            if m:
                cur = [m.group(1), m.group(2), ""]
                blocks.append(cur)
            elif cur is not None and not line.startswith("#"):
                cur[2] += line
    return [(k, n, " ".join(q.split())) for k, n, q in blocks]


def field_refs(spl):
    """Field names an SPL string relies on: name=value in the base search, by-lists, lookup inputs."""
    segs = spl.split("|")
    out = set(re.findall(r"(?<![\w.])([A-Za-z_][A-Za-z0-9_.]*)\s*=", segs[0]))
    for seg in segs[1:]:
        m = re.search(r"\bby\s+(.+)$", seg)
        if m and re.match(r"\s*(stats|chart|timechart|eventstats|streamstats|top|rare)\b", seg):
            out |= {x for x in re.split(r"[\s,]+", m.group(1)) if x and "=" not in x}
        m = re.match(r"\s*lookup\s+\S+\s+(.*?)\s+OUTPUT", seg)
        if m:
            toks = m.group(1).split()
            out |= {toks[i + 2] for i in range(len(toks) - 2) if toks[i + 1].upper() == "AS"}
    return out - {"index", "sourcetype", "source", "host", "eventtype", "earliest", "latest", "span", "limit"}


@check("seed.searches")
def check_seed_searches(app, facts, r):
    if not r.ok("seed.searches", os.path.isfile(app.seed_file), "seed searches file %s missing" % app.seed_file):
        return
    blocks = seed_blocks(app.seed_file)
    r.ok("seed.searches", len(blocks) >= 6, "seed searches file has %d blocks" % len(blocks))
    names = searchable_fields(app, facts)
    ss = app.conf("savedsearches")
    norm = lambda s: " ".join((s or "").split())
    for kind, name, q in blocks:
        for f in sorted(field_refs(q)):
            r.ok("seed.searches", f in names, "seed search %r uses field %s, which the app does not define"
                 % (name, f))
        for p in spl_problems(q):
            r.ok("seed.searches", False, "seed search %r: %s" % (name, p))
        if kind == "report":
            want = q.replace("index=security", "`clawdstrike_index`", 1)
            r.ok("seed.searches", ss is not None and norm(ss.get(name, "search")) == want,
                 "seed search %r is not shipped as saved search [%s] with only index=security -> "
                 "`clawdstrike_index` changed" % (q[:60], name))
        else:
            want = q.replace("index=security sourcetype=clawdstrike:security", "`clawdstrike_events`", 1)
            root = app.views.get(name, (None, None))[0]
            # input tokens ($agent_filter$ ...) may narrow a seed panel
            got = [norm(re.sub(r"\$[^$\s]+\$", " ", x or "")) for _, x in view_searches(root)] \
                if root is not None else []
            r.ok("seed.searches", want in got, "seed panel query %r is not in view %s" % (q[:60], name))


# --------------------------------------------------------------------------
# Package check
# --------------------------------------------------------------------------

def check_package(tgz, app_src, r, run_app_checks=None):
    cid = "package"
    if not r.ok(cid, os.path.isfile(tgz), "package %s does not exist" % tgz):
        return
    try:
        tf = tarfile.open(tgz, "r:gz")
        members = tf.getmembers()
    except (tarfile.TarError, OSError) as e:
        r.ok(cid, False, "%s is not a gzip tar: %s" % (tgz, e))
        return
    tops = {m.name.split("/")[0] for m in members}
    r.ok(cid, tops == {APP_NAME}, "package top level is %s, want exactly one folder %s/" % (sorted(tops), APP_NAME))
    for m in members:
        parts = m.name.split("/")
        r.ok(cid, not any(p.startswith(".") for p in parts) and "__MACOSX" not in parts,
             "package member %s is hidden or prohibited" % m.name)
        r.ok(cid, not m.name.endswith((".pyc", ".pyo")) and "__pycache__" not in parts,
             "package member %s is compiled Python" % m.name)
        r.ok(cid, "local" not in parts[1:2] and not m.name.endswith("local.meta"),
             "package member %s: local/ or local.meta" % m.name)
        r.ok(cid, m.isfile() or m.isdir(), "package member %s is not a regular file or folder" % m.name)
        r.ok(cid, not m.name.startswith("/") and ".." not in parts, "package member %s escapes the folder" % m.name)
        if m.isdir():
            r.ok(cid, m.mode & 0o777 == 0o755, "package folder %s has mode %o, want 755" % (m.name, m.mode & 0o777))
        elif m.isfile():
            want = 0o755 if (len(parts) > 2 and parts[1] == "bin") else 0o644
            r.ok(cid, m.mode & 0o777 == want, "package file %s has mode %o, want %o" % (m.name, m.mode & 0o777, want))
    with tempfile.TemporaryDirectory() as tmp:
        safe = [m for m in members if (m.isfile() or m.isdir()) and not m.name.startswith("/")
                and ".." not in m.name.split("/")]
        tf.extractall(tmp, members=safe)
        tf.close()
        ext = os.path.join(tmp, APP_NAME)
        conf = os.path.join(ext, "default", "app.conf")
        if r.ok(cid, os.path.isfile(conf), "package has no %s/default/app.conf" % APP_NAME):
            ver = Conf(conf).get("launcher", "version")
            r.ok(cid, os.path.basename(tgz) == "%s-%s.tgz" % (APP_NAME, ver),
                 "package file name %s, want %s-%s.tgz" % (os.path.basename(tgz), APP_NAME, ver))
        if app_src and os.path.isdir(app_src):
            def listing(d):
                out = {}
                for dp, dns, fns in os.walk(d):
                    for fn in fns:
                        rel = os.path.relpath(os.path.join(dp, fn), d)
                        if not any(p.startswith(".") for p in rel.split(os.sep)) and not fn.endswith(".pyc"):
                            with open(os.path.join(dp, fn), "rb") as f:
                                out[rel] = f.read()
                return out
            a, b = listing(app_src), listing(ext)
            r.ok(cid, sorted(a) == sorted(b),
                 "package contents differ from %s: missing %s, extra %s"
                 % (app_src, sorted(set(a) - set(b))[:5], sorted(set(b) - set(a))[:5]))
            r.ok(cid, all(a[k] == b.get(k) for k in a), "package file contents differ from the source tree")
        if run_app_checks and os.path.isdir(ext):
            sub = run_app_checks(ext)
            r.ok(cid, sub.failed == 0, "the packaged app fails %d checks: %s"
                 % (sub.failed, "; ".join(m for _, m in sub.failures[:3])))


# --------------------------------------------------------------------------
# Running
# --------------------------------------------------------------------------

def run_checks(app_dir, spec_dir, src_dir, seed_file, quiet=False, only=None):
    r = Results(quiet=quiet)
    app = App(app_dir, spec_dir, src_dir, seed_file)
    facts = RelayFacts(src_dir)
    for cid, fn in CHECKS:
        if only and cid not in only:
            continue
        try:
            fn(app, facts, r)
        except Exception as e:  # a crash is a failure of that check, not of the run
            r.ok(cid, False, "check crashed: %s: %s" % (type(e).__name__, e))
    return r


# --------------------------------------------------------------------------
# Self-test: every check must reject a broken app
# --------------------------------------------------------------------------

def _edit(path, old, new, count=1):
    with open(path, encoding="utf-8") as f:
        s = f.read()
    if old not in s:
        raise AssertionError("self-test fixture: %r not found in %s" % (old, path))
    with open(path, "w", encoding="utf-8") as f:
        f.write(s.replace(old, new, count))


def _append(path, text):
    with open(path, "a", encoding="utf-8") as f:
        f.write(text)


def _write(path, text, mode=None):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    if mode is not None:
        os.chmod(path, mode)


def _fixture(name):
    with open(os.path.join(HERE, "fixtures", name), encoding="utf-8") as f:
        return f.read()


D = "default/"
V = "default/data/ui/views/"
MUTATIONS = [
    # (check id, what, function(app_dir, src_dir))
    ("spec.syntax", "garbage line in props.conf", lambda a, s: _append(a + D + "props.conf", "\nthis is not a setting\n")),
    ("spec.syntax", "duplicate key in a stanza", lambda a, s: _edit(a + D + "macros.conf", "definition = 20\n", "definition = 20\ndefinition = 30\n")),
    ("spec.settings", "misspelt props setting", lambda a, s: _edit(a + D + "props.conf", "KV_MODE = json", "KV_MODE = json\nKVMODE = json")),
    ("spec.settings", "setting from the wrong stanza in app.conf", lambda a, s: _edit(a + D + "app.conf", "label = Clawdstrike Security", "label = Clawdstrike Security\nbuild = 2")),
    ("spec.settings", "unknown email action parameter", lambda a, s: _edit(a + D + "savedsearches.conf", "action.email.sendcsv = 1", "action.email.sendcsv = 1\naction.email.sendxls = 1")),
    ("spec.settings", "conf file with no spec", lambda a, s: _write(a + D + "bogus.conf", "[x]\ny = 1\n")),
    ("spec.settings", "broken conf fixture (tests/fixtures/bad_props.conf)", lambda a, s: shutil.copy(os.path.join(HERE, "fixtures", "bad_props.conf"), a + D + "props.conf")),
    ("spec.values", "non-boolean INDEXED", lambda a, s: _edit(a + D + "fields.conf", "INDEXED = true", "INDEXED = sure")),
    ("spec.values", "non-integer max_matches", lambda a, s: _edit(a + D + "transforms.conf", "max_matches = 1", "max_matches = one")),
    ("appinspect.structure", "local/ folder", lambda a, s: _write(a + "local/props.conf", "[x]\n")),
    ("appinspect.structure", "metadata/local.meta", lambda a, s: _write(a + "metadata/local.meta", "[]\n")),
    ("appinspect.structure", "HTML dashboard folder", lambda a, s: _write(a + D + "data/ui/html/x.html", "<html/>\n")),
    ("appinspect.files", "hidden file", lambda a, s: _write(a + "default/.DS_Store", "x")),
    ("appinspect.files", "executable file outside bin/", lambda a, s: os.chmod(a + D + "macros.conf", 0o755)),
    ("appinspect.files", "space in a file name", lambda a, s: _write(a + "lookups/my notes.txt", "x")),
    ("appinspect.files", "compiled Python", lambda a, s: _write(a + "static/x.pyc", "x")),
    ("appinspect.app_conf", "package id differs from folder", lambda a, s: _edit(a + D + "app.conf", "id = clawdstrike", "id = clawdstrike_app")),
    ("appinspect.app_conf", "version not semver", lambda a, s: _edit(a + D + "app.conf", "[launcher]\nversion = 0.1.0", "[launcher]\nversion = 0.1")),
    ("appinspect.app_conf", "label 'Splunk for ...'", lambda a, s: _edit(a + D + "app.conf", "label = Clawdstrike Security", "label = Splunk for Clawdstrike")),
    ("appinspect.app_conf", "install_source_checksum set", lambda a, s: _edit(a + D + "app.conf", "state = enabled", "state = enabled\ninstall_source_checksum = abc")),
    ("appinspect.app_conf", "build not a positive integer", lambda a, s: _edit(a + D + "app.conf", "build = 1", "build = 0")),
    ("appinspect.app_conf", "reload trigger for a built-in conf", lambda a, s: _append(a + D + "app.conf", "\n[triggers]\nreload.props = simple\n")),
    ("appinspect.meta", "write : [ * ]", lambda a, s: _edit(a + "metadata/default.meta", "write : [ admin, sc_admin ]", "write : [ * ]")),
    ("appinspect.meta", "not exported", lambda a, s: _edit(a + "metadata/default.meta", "export = system", "export = none")),
    ("appinspect.icons", "icon of the wrong size", lambda a, s: shutil.copy(a + "static/appIcon_2x.png", a + "static/appIcon.png")),
    ("appinspect.icons", "icon missing", lambda a, s: os.remove(a + "static/appIconAlt.png")),
    ("views.xml", "dashboard without version", lambda a, s: _edit(a + V + "clawdstrike_egress.xml", '<form version="1.1">', "<form>")),
    ("views.xml", "dashboard version 1.0", lambda a, s: _edit(a + V + "clawdstrike_egress.xml", '<form version="1.1">', '<form version="1.0">')),
    ("views.xml", "malformed XML fixture (tests/fixtures/bad_view.xml)", lambda a, s: _write(a + V + "bad_view.xml", _fixture("bad_view.xml"))),
    ("views.macros", "panel hard-codes index=security", lambda a, s: _edit(a + V + "clawdstrike_egress.xml", "`clawdstrike_events` event_type=egress_blocked | stats count by resource_host", "index=security sourcetype=clawdstrike:security event_type=egress_blocked | stats count by resource_host")),
    ("views.macros", "panel search with an unknown command", lambda a, s: _edit(a + V + "clawdstrike_posture.xml", "| stats count</query>", "| statz count</query>")),
    ("views.macros", "panel search with an unbalanced quote", lambda a, s: _edit(a + V + "clawdstrike_posture.xml", "| stats count</query>", "| stats count by \"x</query>")),
    ("views.drilldown", "panel without drilldown", lambda a, s: _edit(a + V + "clawdstrike_posture.xml", '<drilldown>\n            <link target="_blank">search?q=%60clawdstrike_denials%60&amp;earliest=$t.earliest|u$&amp;latest=$t.latest|u$</link>\n          </drilldown>', "", 1)),
    ("views.drilldown", "drilldown to a missing view", lambda a, s: _edit(a + V + "clawdstrike_posture.xml", "clawdstrike_activity?form.agent", "clawdstrike_nothere?form.agent")),
    ("views.drilldown", "drilldown search without the macro", lambda a, s: _edit(a + V + "clawdstrike_posture.xml", "search?q=%60clawdstrike_denials%60&amp;", "search?q=index%3Dmain&amp;")),
    ("views.tokens", "undefined token in a query", lambda a, s: _edit(a + V + "clawdstrike_violations.xml", 'guard="$guard$" severity="$severity$" | chart', 'guard="$guard$" severity="$sev$" | chart')),
    ("nav", "nav names a missing view", lambda a, s: _edit(a + D + "data/ui/nav/default.xml", '<view name="clawdstrike_egress"/>', '<view name="clawdstrike_egres"/>')),
    ("nav", "dashboard not in nav", lambda a, s: _edit(a + D + "data/ui/nav/default.xml", '    <view name="clawdstrike_mitre"/>\n', "")),
    ("lookups.files", "transform names a missing CSV", lambda a, s: os.remove(a + "lookups/mitre_atlas_techniques.csv")),
    ("lookups.files", "CSV with a ragged row", lambda a, s: _append(a + "lookups/clawdstrike_severity.csv", "extreme,6\n")),
    ("lookups.files", "MITRE notice missing", lambda a, s: os.remove(a + "lookups/MITRE-NOTICE.md")),
    ("lookups.files", "CSV without a header row", lambda a, s: _write(a + "lookups/clawdstrike_severity.csv", "info,1,1,green,informational\n")),
    ("lookups.refs", "LOOKUP- names a missing transform", lambda a, s: _edit(a + D + "props.conf", "LOOKUP-cs_severity = clawdstrike_severity ", "LOOKUP-cs_severity = clawdstrike_sev ")),
    ("lookups.refs", "lookup output column that does not exist", lambda a, s: _edit(a + D + "savedsearches.conf", "OUTPUT technique_name", "OUTPUT technique_title")),
    ("macros", "undefined macro", lambda a, s: _edit(a + D + "savedsearches.conf", "`clawdstrike_denials` | stats count as denials", "`clawdstrike_denial` | stats count as denials")),
    ("macros", "index macro missing", lambda a, s: _edit(a + D + "macros.conf", "[clawdstrike_index]", "[clawdstrike_idx]")),
    ("macros", "index macro disagrees with the relay's default index", lambda a, s: _edit(a + D + "macros.conf", "definition = index=security", "definition = index=main")),
    ("eventtypes", "tag on a missing eventtype", lambda a, s: _edit(a + D + "tags.conf", "[eventtype=clawdstrike_alert]", "[eventtype=clawdstrike_alerts]")),
    ("eventtypes", "non-CIM tag", lambda a, s: _edit(a + D + "tags.conf", "alert = enabled", "alert = enabled\nalerting = enabled")),
    ("eventtypes", "pipe in an eventtype", lambda a, s: _edit(a + D + "eventtypes.conf", 'search = sourcetype="clawdstrike:*" decision.allowed="false"', 'search = sourcetype="clawdstrike:*" decision.allowed="false" | head 1')),
    ("searches.parse", "saved search hard-codes the index", lambda a, s: _edit(a + D + "savedsearches.conf", "search = `clawdstrike_index` sourcetype=clawdstrike:security | timechart", "search = index=security sourcetype=clawdstrike:security | timechart")),
    ("searches.parse", "saved search with an empty pipe", lambda a, s: _edit(a + D + "savedsearches.conf", "| sort -count | head 20", "| sort -count | | head 20")),
    ("searches.schedule", "real-time alert", lambda a, s: _edit(a + D + "savedsearches.conf", "dispatch.earliest_time = -60m@m", "dispatch.earliest_time = rt-60m")),
    ("searches.schedule", "unthrottled alert", lambda a, s: _edit(a + D + "savedsearches.conf", "alert.suppress.period = 30m\nalert.suppress.fields = agent_id\n", "")),
    ("searches.schedule", "bad cron", lambda a, s: _edit(a + D + "savedsearches.conf", "cron_schedule = 0 6 * * 1", "cron_schedule = 0 25 * * 1")),
    ("searches.schedule", "scheduled search without earliest time", lambda a, s: _edit(a + D + "savedsearches.conf", "dispatch.earliest_time = -7d@w1\n", "")),
    ("searches.required", "compliance report ships enabled", lambda a, s: _edit(a + D + "savedsearches.conf", "action.email.reportPaperOrientation = landscape\nrequest.ui_dispatch_app = clawdstrike\nrequest.ui_dispatch_view = search\ndisabled = 1", "action.email.reportPaperOrientation = landscape\nrequest.ui_dispatch_app = clawdstrike\nrequest.ui_dispatch_view = search\ndisabled = 0")),
    ("searches.required", "compliance report with a recipient", lambda a, s: _edit(a + D + "savedsearches.conf", "action.email.to =\n", "action.email.to = soc@example.com\n")),
    ("searches.required", "no critical alert", lambda a, s: _edit(a + D + "savedsearches.conf", "search = `clawdstrike_events` severity=critical | fillnull", "search = `clawdstrike_events` severity=high | fillnull")),
    ("relay.source", "relay tables disagree (event.c loses a field)", lambda a, s: _edit(s + "event.c", '[F_ENVIRONMENT] = "environment",', "")),
    ("relay.source", "relay source unreadable", lambda a, s: os.remove(s + "route.c")),
    ("relay.indexed", "relay indexes a field fields.conf does not declare", lambda a, s: _edit(s + "config.c", '"agent_id session_id user', '"reason agent_id session_id user')),
    ("relay.indexed", "fields.conf declares a field the relay never sends", lambda a, s: _append(a + D + "fields.conf", "\n[sourcetype::clawdstrike:security::event_type]\nINDEXED = true\n")),
    ("relay.indexed", "global fields.conf stanza", lambda a, s: _append(a + D + "fields.conf", "\n[severity]\nINDEXED = true\n")),
    ("relay.no_duplicates", "seed EXTRACT-severity duplicates the indexed field", lambda a, s: _edit(a + D + "props.conf", "KV_MODE = json\n", "KV_MODE = json\nEXTRACT-severity = \"severity\"\\s*:\\s*\"(?<severity>[^\"]+)\"\n")),
    ("relay.no_duplicates", "EVAL of an indexed name", lambda a, s: _edit(a + D + "props.conf", "EVAL-app = ", "EVAL-severity = coalesce(severity, 'decision.severity')\nEVAL-app = ")),
    ("relay.no_duplicates", "plain alias onto an indexable name", lambda a, s: _edit(a + D + "props.conf", "decision.reason ASNEW reason", "decision.reason AS reason")),
    ("relay.sourcetypes", "routed sourcetype stanza drifts", lambda a, s: _edit(a + D + "props.conf", "[clawdstrike:high]\nKV_MODE = json", "[clawdstrike:high]\nKV_MODE = auto")),
    ("relay.sourcetypes", "relay default sourcetype changes", lambda a, s: _edit(s + "config.c", '"clawdstrike:security", CONFIG_RELOADABLE', '"clawdstrike:events", CONFIG_RELOADABLE')),
    ("relay.sourcetypes", "INDEXED_EXTRACTIONS set", lambda a, s: _edit(a + D + "props.conf", "KV_MODE = json\n", "KV_MODE = json\nINDEXED_EXTRACTIONS = json\n")),
    ("relay.seed_fields", "resource_host alias removed", lambda a, s: _edit(a + D + "props.conf", " resource.host AS resource_host", "", 3)),
    ("relay.seed_fields", "reason alias removed", lambda a, s: _edit(a + D + "props.conf", "decision.reason ASNEW reason ", "", 3)),
    ("seed.searches", "seed report edited", lambda a, s: _edit(a + D + "savedsearches.conf", "| stats count by guard, resource_name, session_id", "| stats count by guard, resource_name")),
    ("seed.searches", "seed panel missing from its view", lambda a, s: _edit(a + V + "clawdstrike_posture.xml", "outcome=failure | stats count by guard | sort -count", "outcome=failure | stats count by guard")),
    ("seed.searches", "seed search uses an undefined field", lambda a, s: _edit(s + "../seed_searches.txt", "| stats count by resource_host\n| sort -count\n| head 20\n\n## report: Clawdstrike seed - Agent", "| stats count by resource_hostname\n| sort -count\n| head 20\n\n## report: Clawdstrike seed - Agent")),
]


def _package_mutations():
    """(what, function(stage_dir)->None) applied to a staged package tree before tarring."""
    return [
        ("hidden file", lambda d: _write(os.path.join(d, APP_NAME, ".hidden"), "x")),
        ("executable file", lambda d: os.chmod(os.path.join(d, APP_NAME, "README.md"), 0o755)),
        ("second top-level folder", lambda d: _write(os.path.join(d, "other", "x.txt"), "x")),
        ("compiled Python", lambda d: _write(os.path.join(d, APP_NAME, "static", "x.pyc"), "x")),
        ("file missing from the package", lambda d: os.remove(os.path.join(d, APP_NAME, "README.md"))),
        ("broken app inside the package", lambda d: _edit(os.path.join(d, APP_NAME, "default", "app.conf"), "build = 1", "build = x")),
    ]


def make_tgz(stage, out, modes=True):
    with tarfile.open(out, "w:gz") as tf:
        for top in sorted(os.listdir(stage)):
            def filt(ti):
                ti.uid = ti.gid = 0
                ti.uname = ti.gname = ""
                if modes and ti.isdir():
                    ti.mode = 0o755
                elif modes and ti.isfile() and not (os.stat(os.path.join(stage, ti.name)).st_mode & 0o100):
                    ti.mode = 0o644
                return ti
            tf.add(os.path.join(stage, top), arcname=top, filter=filt)


def self_test(app_dir, spec_dir, src_dir, seed_file):
    r = Results()

    def prepare(tmp):
        a = os.path.join(tmp, APP_NAME) + "/"
        s = os.path.join(tmp, "src") + "/"
        shutil.copytree(app_dir, a)
        os.makedirs(s)
        for fn in ("config.c", "route.c", "event.c"):
            shutil.copy(os.path.join(src_dir, fn), s)
        shutil.copy(seed_file, os.path.join(tmp, "seed_searches.txt"))
        return a, s

    with tempfile.TemporaryDirectory() as tmp:
        a, s = prepare(tmp)
        base = run_checks(a, spec_dir, s, os.path.join(tmp, "seed_searches.txt"), quiet=True)
        r.ok("self-test", base.failed == 0, "the unmodified copy fails: %s" % base.failures[:3])
    covered = set()
    for cid, what, fn in MUTATIONS:
        with tempfile.TemporaryDirectory() as tmp:
            a, s = prepare(tmp)
            try:
                fn(a, s)
            except Exception as e:
                r.ok("self-test", False, "mutation %r could not be applied: %s" % (what, e))
                continue
            res = run_checks(a, spec_dir, s, os.path.join(tmp, "seed_searches.txt"), quiet=True)
            hit = cid in res.failed_ids()
            if hit:
                covered.add(cid)
            r.ok("self-test", hit, "check %s did not reject: %s (failures: %s)"
                 % (cid, what, sorted(res.failed_ids()) or "none"))
    for cid, _ in CHECKS:
        r.ok("self-test", cid in covered, "check %s has no breakage that it rejects" % cid)
    # the package check
    for what, fn in [("clean package", None)] + _package_mutations():
        with tempfile.TemporaryDirectory() as tmp:
            stage = os.path.join(tmp, "stage")
            os.makedirs(stage)
            shutil.copytree(app_dir, os.path.join(stage, APP_NAME))
            if fn:
                fn(stage)
            ver = Conf(os.path.join(app_dir, "default", "app.conf")).get("launcher", "version")
            out = os.path.join(tmp, "%s-%s.tgz" % (APP_NAME, ver))
            make_tgz(stage, out)
            pr = Results(quiet=True)
            check_package(out, app_dir, pr, lambda d: run_checks(d, spec_dir, src_dir, seed_file, quiet=True))
            if fn is None:
                r.ok("self-test", pr.failed == 0, "package check rejects a clean package: %s" % pr.failures[:3])
            else:
                r.ok("self-test", pr.failed > 0, "package check did not reject: %s" % what)
    return r


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--app", default=os.path.join(HERE, "..", APP_NAME), help="app folder")
    ap.add_argument("--spec", default=os.path.join(HERE, "spec"), help="folder of .conf.spec files")
    ap.add_argument("--src", default=os.path.join(REPO, "src"), help="relay source folder (config.c, route.c, event.c)")
    ap.add_argument("--seed", default=os.path.join(HERE, "seed_searches.txt"), help="seed searches file")
    ap.add_argument("--package", help="also check this built .tgz")
    ap.add_argument("--self-test", action="store_true", help="verify that every check rejects a broken app")
    args = ap.parse_args()
    app_dir = os.path.normpath(args.app)
    if args.self_test:
        r = self_test(app_dir, args.spec, args.src, args.seed)
        print("self-test: %d mutations of %d checks" % (len(MUTATIONS), len(CHECKS)))
    else:
        r = run_checks(app_dir, args.spec, args.src, args.seed)
        if args.package:
            check_package(args.package, app_dir, r,
                          lambda d: run_checks(d, args.spec, args.src, args.seed, quiet=True))
    print("%d passed, %d failed" % (r.passed, r.failed))
    return 1 if r.failed else 0


if __name__ == "__main__":
    sys.exit(main())
