"""What the docs site generates from the code at build time (loaded by MkDocs through `hooks.py`).

Reference pages hold directive lines, `<!-- generate: KIND ARGUMENT -->`, that the build replaces
with Markdown made from the code itself: the argument parsers (`cli`), the control routes'
declarations (`routes`), the JSON Schemas of the file formats (`schema`) and the benchmark results
(`bench`); ```dot blocks become SVG drawn by Graphviz. Generated at every build, a page cannot
drift from the code; a directive that cannot be honoured fails the build.
"""
