"""AST checks of Python code against the convention benchmark's rules (bench/conventions.ts runs it).

Reads a JSON list of {"code": str, "checks": [check, ...]} on stdin; writes a JSON list of lists of
{"ok": bool, "why": str} (one per check) on stdout. Code that does not parse fails every check.
"""
import ast
import json
import re
import sys


def dotted(node):
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = dotted(node.value)
        return f"{base}.{node.attr}" if base else node.attr
    if isinstance(node, ast.Call):
        return dotted(node.func)
    return ""


def functions(tree):
    """Top-level defs and methods of top-level classes (not dunder methods)."""
    out = []
    for n in tree.body:
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)):
            out.append(n)
        elif isinstance(n, ast.ClassDef):
            for m in n.body:
                if isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef)) and not (m.name.startswith("__") and m.name.endswith("__")):
                    out.append(m)
    return out


def top_functions(tree):
    return [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]


def classes(tree):
    return [n for n in tree.body if isinstance(n, ast.ClassDef)]


def imported(tree):
    mods = set()
    for n in ast.walk(tree):
        if isinstance(n, ast.Import):
            for a in n.names:
                mods.add(a.name)
        elif isinstance(n, ast.ImportFrom) and n.module:
            mods.add(n.module)
            for a in n.names:
                mods.add(f"{n.module}.{a.name}")
    return mods


def module_matches(mods, module):
    return any(m == module or m.startswith(module + ".") for m in mods)


def calls(tree):
    return [dotted(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)]


def call_matches(name, wanted):
    return name == wanted or name.endswith("." + wanted)


def every(items, pred, what):
    if not items:
        return False, f"no {what} to check"
    bad = [i for i in items if not pred(i)]
    return (not bad), ("" if not bad else f"{what}: " + ", ".join(getattr(b, "name", "?") for b in bad[:4]))


def check(tree, c):
    kind = c["check"]
    if kind == "function-name":
        return every(functions(tree), lambda f: re.search(c["pattern"], f.name), "functions")
    if kind == "class-name":
        return every(classes(tree), lambda f: re.search(c["pattern"], f.name), "classes")
    if kind == "constant-name":
        names = []
        for n in tree.body:
            targets = n.targets if isinstance(n, ast.Assign) else [n.target] if isinstance(n, ast.AnnAssign) else []
            for t in targets:
                if isinstance(t, ast.Name) and t.id != "__all__":
                    names.append(t.id)
        if not names:
            return False, "no module-level constant"
        bad = [x for x in names if not re.search(c["pattern"], x)]
        return not bad, ", ".join(bad[:4])
    if kind == "decorator":
        want = c["name"].lstrip("@")
        return every(top_functions(tree), lambda f: any(dotted(d).split(".")[-1] == want.split(".")[-1] for d in f.decorator_list), "top-level functions")
    if kind == "docstring":
        pat = c.get("pattern")
        def ok(n):
            doc = ast.get_docstring(n)
            return bool(doc) and (not pat or re.search(pat, doc))
        return every(functions(tree) + classes(tree), ok, "functions and classes")
    if kind == "annotations":
        def ok(f):
            args = f.args.posonlyargs + f.args.args + f.args.kwonlyargs
            args = [a for a in args if a.arg not in ("self", "cls")]
            extra = [a for a in (f.args.vararg, f.args.kwarg) if a]
            return f.returns is not None and all(a.annotation is not None for a in args + extra)
        return every(functions(tree), ok, "functions")
    if kind == "import-required":
        return module_matches(imported(tree), c["module"]), f"{c['module']} not imported"
    if kind == "import-forbidden":
        return not module_matches(imported(tree), c["module"]), f"{c['module']} imported"
    if kind == "async":
        return every(top_functions(tree), lambda f: isinstance(f, ast.AsyncFunctionDef), "top-level functions")
    if kind == "call-required":
        return any(call_matches(n, c["name"]) for n in calls(tree)), f"no call to {c['name']}"
    if kind == "call-forbidden":
        return not any(call_matches(n, c["name"]) for n in calls(tree)), f"calls {c['name']}"
    if kind == "raises":
        want = c["name"]
        found = any(isinstance(n, ast.Raise) and n.exc is not None and dotted(n.exc).split(".")[-1] == want for n in ast.walk(tree))
        return found, f"never raises {want}"
    return False, f"unknown check {kind}"


def main():
    jobs = json.load(sys.stdin)
    out = []
    for job in jobs:
        try:
            tree = ast.parse(job["code"])
            empty = not tree.body
        except SyntaxError as e:
            tree, empty = None, True
            err = f"does not parse: {e.msg} (line {e.lineno})"
        res = []
        for c in job["checks"]:
            if tree is None or empty:
                res.append({"ok": False, "why": "no code" if tree is not None else err})
                continue
            ok, why = check(tree, c)
            res.append({"ok": bool(ok), "why": "" if ok else why})
        out.append(res)
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
