"""Drop repeated inline scripts from every HTML page.

sphinx-thebe (loaded by Jupyter Book 1.x) adds its inline configuration script
(``const THEBE_JS_URL = ...``) twice under Sphinx 7, and the second copy throws
"Identifier 'THEBE_JS_URL' has already been declared" in the browser console. Sphinx
de-duplicates script files by name but not inline bodies; this extension does.
"""

from __future__ import annotations


def _key(script) -> tuple:
    attributes = getattr(script, "attributes", {}) or {}
    # The two copies differ only in filename: None for one, "" for the other.
    filename = getattr(script, "filename", script) or None
    return (filename, tuple(sorted((k, str(v)) for k, v in attributes.items())))


def dedupe_scripts(app, pagename, templatename, context, doctree) -> None:
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, unique = set(), []
    for script in scripts:
        key = _key(script)
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"] = unique


def setup(app):
    app.connect("html-page-context", dedupe_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
