#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys


def main():
    if sys.version_info < (3, 12):  # noqa: UP036 - said before Django fails to import on an old Python
        sys.exit("Newsroom Live needs Python 3.12 or newer (Django 6). Run it through `make`, which builds .venv with 3.12.")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "newsroom.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
