"""Offline previews: small images (and first lines of text) made where a drive's files
are read, kept in the catalogue by oshash so a file can be reviewed without its drive.

- ``kinds``: what is made and its limits (sizes, caps, content types).
- ``generate``: makes a file's previews with Pillow, ffmpeg/ffprobe and pdftoppm.
- ``bundle``: the folder of previews beside a manifest that ``scan_folder`` and
  ``make_previews`` write and ``import_json``/``import_previews`` read.
- ``models.Preview`` (exported by ``catalog.models``), ``services`` (the one write
  path: import a folder, store a browser-made preview), ``selectors`` (reads),
  ``views``/``urls`` (serving and upload). See docs/previews.md.
"""
