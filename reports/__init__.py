"""Documents that leave the system: results in, a file out.

One layer with one job. Each builder takes the result objects of ``data.documents`` /
``data.work_summary`` (the same numbers the pages show) and returns bytes: ``.xlsx``
(openpyxl), ``.docx`` (python-docx), ``.pdf`` (LibreOffice converting the ``.docx``),
``.png`` charts (matplotlib) and ``.zip`` bundles. Nothing here queries the database or
scores anything.
"""
