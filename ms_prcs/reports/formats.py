"""The output formats of every report; apart from the renderers so that the CLI can list them cheaply."""

FORMATS = ("table", "csv", "json", "html")
