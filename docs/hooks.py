"""mkdocs hooks: the repository's figures (results/*.png, the explorer's screenshot) are served
with the docs at the same relative paths, so pages show them without copies in docs/."""

from pathlib import Path

from mkdocs.structure.files import File

ROOT = Path(__file__).resolve().parents[1]
FIGURES = ("results/*.png", "results/attention/*.png", "spaces/explorer/screenshot.png")


def on_files(files, config):
    for pattern in FIGURES:
        for path in sorted(ROOT.glob(pattern)):
            uri = path.relative_to(ROOT).as_posix()
            if files.get_file_from_path(uri) is None:
                files.append(File(uri, str(ROOT), config["site_dir"], config["use_directory_urls"]))
    return files


def on_page_markdown(markdown, page, config, files):
    """`<!-- generated:NAME -->` lines become their tables (`iarc_hf.experiments.docs_tables`),
    computed from the package and the committed JSONs while the site builds."""
    if "<!-- generated:" not in markdown:
        return markdown
    from iarc_hf.experiments.docs_tables import render

    return render(markdown, ROOT)
