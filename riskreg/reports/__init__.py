"""Presenting the coverage report: labels and groups of its figures (``figures``), its tables
(``tables``), charts drawn on the server (``charts`` → ``svg`` for the page, reportlab for the PDF),
and the files: CSV and XLSX with formula injection neutralised (``files``) and the PDF (``pdf``).
The numbers themselves come from riskreg.services.reports."""
