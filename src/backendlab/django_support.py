"""Kernel plumbing for the Django chapter: one Django per process, a fresh run every time.

A Django project normally starts in a fresh process: ``manage.py`` points
``DJANGO_SETTINGS_MODULE`` at ``settings.py``, ``django.setup()`` runs once, and the apps are
packages on disk. A notebook kernel outlives every cell, so the chapter needs three things a
project never does, and nothing else:

* :func:`configure_django` calls ``settings.configure()`` and ``django.setup()`` the first time
  and, when a cell runs again, keeps those settings (Django cannot be configured twice in a
  process) but points the database at this run's new SQLite file and the in-memory app packages
  at this run's folder. An in-memory app package also stands in for the app's ``models.py``, so
  that ``migrate`` creates the content types and permissions of models defined in cells.
* :func:`forget_models` empties the app registry's entries for one app label, so that model
  classes can be defined again in a re-run cell without Django's "already registered" warning.
* :func:`end_run` closes this thread's database connections and forgets the modules loaded from
  the run's folder, so that the folder can be deleted.
* :func:`load_project` does what ``python manage.py shell`` does for a project folder on disk (its
  ``settings.py``, its apps and their models), through :func:`configure_django`, so that a
  notebook can query the project's database and serve the project in a thread; the notebook may
  take the role of the URL configuration (``urlconf="__main__"``).

Everything a learner should see about Django itself (the settings, models, admin, views and
URLs) stays in the notebook.
"""

from __future__ import annotations

import asyncio
import copy
import importlib
import importlib.machinery
import os
import runpy
import sys
import types
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = [
    "ALLOW_ASYNC_UNSAFE",
    "configure_django",
    "end_run",
    "forget_models",
    "in_running_event_loop",
    "load_project",
    "project_settings",
]

ALLOW_ASYNC_UNSAFE = "DJANGO_ALLOW_ASYNC_UNSAFE"
_IN_MEMORY_MARK = "__backendlab_in_memory_app__"

# What the first configure_django() call of this process used (without database file names).
_configured_with: dict[str, Any] | None = None
_app_packages: dict[str, Path] = {}


def in_running_event_loop() -> bool:
    """True when an asyncio event loop is running in the calling thread (as in an IPython kernel)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _allow_sync_orm_in_kernel() -> bool:
    """Let the ORM run in notebook cells; only where a kernel's event loop is running.

    Django refuses database calls (``SynchronousOnlyOperation``) from a thread whose asyncio
    loop is running, because a blocking query there would stall every coroutine of that loop.
    ipykernel runs each cell from inside its own loop, so every ORM call in a cell would be
    refused, although the loop has nothing else to do while the cell runs. The variable is set
    only in this case, only in this process; a script, a test run or a server is unaffected.
    """
    if in_running_event_loop():
        os.environ[ALLOW_ASYNC_UNSAFE] = "true"
        return True
    return False


def _comparable(settings_dict: Mapping[str, Any]) -> dict[str, Any]:
    """The settings without the database file names, which change on every run by design."""
    comparable = copy.deepcopy(dict(settings_dict))
    for database in comparable.get("DATABASES", {}).values():
        database.pop("NAME", None)
    return comparable


def _install_app_package(name: str, folder: Path) -> None:
    """Make ``import name`` return an in-memory package whose submodules live in ``folder``.

    An installed app must have a filesystem location (Django looks there for ``migrations/``,
    ``templates/``...). The package's code is defined in the notebook, not in files, but its
    ``__path__`` is this run's folder, so ``makemigrations`` writes ``<folder>/migrations/``.
    """
    if "." in name or not name.isidentifier():
        raise ValueError(f"an in-memory app needs a top-level module name, not {name!r}")
    folder.mkdir(parents=True, exist_ok=True)
    module = sys.modules.get(name)
    if module is None:
        module = types.ModuleType(name, f"The {name!r} app of a notebook; its files live in a temporary folder.")
        module.__spec__ = importlib.machinery.ModuleSpec(name, None, is_package=True)
        module.__path__ = []  # type: ignore[attr-defined]
        module.__spec__.submodule_search_locations = module.__path__  # type: ignore[attr-defined]
        setattr(module, _IN_MEMORY_MARK, True)
        sys.modules[name] = module
    elif not getattr(module, _IN_MEMORY_MARK, False):
        raise RuntimeError(f"a real module {name!r} is already imported; choose another app name")
    module.__path__[:] = [str(folder)]  # type: ignore[attr-defined]
    _forget_submodules(name)
    _app_packages[name] = folder


def _forget_submodules(name: str) -> None:
    """Drop ``name.*`` (e.g. a previous run's migrations) from ``sys.modules``."""
    for module_name in [m for m in sys.modules if m.startswith(name + ".")]:
        del sys.modules[module_name]
    importlib.invalidate_caches()


def configure_django(settings_dict: Mapping[str, Any], *, app_dirs: Mapping[str, str | os.PathLike[str]]) -> bool:
    """Configure Django for this kernel; safe to call again on every run of the notebook.

    ``settings_dict`` holds the project's settings, as ``settings.py`` would.
    ``app_dirs`` maps each in-memory app (a top-level module name listed in
    ``INSTALLED_APPS``) to the folder that holds its files for this run.

    First call in the process: creates the app packages, ``settings.configure(**settings_dict)``
    and ``django.setup()``. Later calls must pass the same settings except for the databases'
    ``NAME`` (a fresh SQLite file per run): they close the database connections of this thread,
    switch every database to its new file, and move the app packages to their new folders.
    Returns True if this call configured Django, False if Django was already configured.
    """
    global _configured_with
    import django
    from django.conf import settings

    _allow_sync_orm_in_kernel()
    comparable = _comparable(settings_dict)
    if settings.configured and _configured_with is None:
        raise RuntimeError("Django was configured outside configure_django(); restart the kernel")
    if settings.configured and comparable != _configured_with:
        changed = sorted(
            key
            for key in set(comparable) | set(_configured_with or {})
            if comparable.get(key) != (_configured_with or {}).get(key)
        )
        raise RuntimeError(
            "Django's settings can be configured only once per process and these differ from the "
            f"first run: {', '.join(changed)}. Restart the kernel to apply them."
        )

    for name, folder in app_dirs.items():
        _install_app_package(name, Path(folder))

    if not settings.configured:
        settings.configure(**settings_dict)
        django.setup()
        _configured_with = comparable
        _give_models_modules(app_dirs)
        return True

    from django.apps import apps
    from django.db import connections
    from django.urls import clear_url_caches

    connections.close_all()
    for alias, database in settings_dict.get("DATABASES", {}).items():
        settings.DATABASES[alias]["NAME"] = database["NAME"]  # the dict every new connection reads
        try:
            del connections[alias]  # this thread's wrapper; the next query opens the new file
        except AttributeError:
            pass
    for name, folder in app_dirs.items():
        for app_config in apps.get_app_configs():
            if app_config.name == name:
                app_config.path = str(folder)
    clear_url_caches()
    if apps.is_installed("django.contrib.contenttypes"):
        from django.contrib.contenttypes.models import ContentType

        ContentType.objects.clear_cache()  # ids cached from the previous run's database
    return False


def _give_models_modules(app_dirs: Mapping[str, Any]) -> None:
    """Name each in-memory app package as its own models module.

    Django sends ``post_migrate`` (which creates the content types and the add/change/delete/view
    permissions of each model) only to apps that have a models module, normally ``<app>.models``.
    An app whose model classes are defined in notebook cells has none; the package stands in.
    """
    from django.apps import apps

    for app_config in apps.get_app_configs():
        if app_config.name in app_dirs and app_config.models_module is None:
            app_config.models_module = app_config.module


def forget_models(app_label: str) -> list[str]:
    """Remove the models of ``app_label`` from Django's app registry; returns their names.

    Call it just before (re-)defining the app's model classes: Django registers every model
    class when it is created, and warns "Model ... was already registered" when a cell
    defines the same class again. Forgetting the old classes first makes a re-run cell behave
    like the first run. Never needed in a project, where models.py is imported once.
    """
    from django.apps import apps

    registered = apps.all_models[app_label]  # also the app config's own .models dict
    names = sorted(registered)
    registered.clear()
    apps.clear_cache()
    if apps.is_installed("django.contrib.contenttypes"):
        from django.contrib.contenttypes.models import ContentType

        ContentType.objects.clear_cache()
    return names


def end_run() -> None:
    """Close this thread's database connections and forget the modules loaded from the run's folders.

    Server threads close their own connections at the end of every request (Django's default,
    ``CONN_MAX_AGE = 0``). Call this before deleting the run's folder.
    """
    from django.conf import settings

    if settings.configured:
        from django.db import connections

        connections.close_all()
    for name in _app_packages:
        _forget_submodules(name)


def project_settings(settings_file: str | os.PathLike[str]) -> dict[str, Any]:
    """The settings a project's ``settings.py`` defines: its upper-case names, read afresh.

    The file is executed on every call (not imported), so values it reads from the environment,
    such as a database path, are this call's values.
    """
    namespace = runpy.run_path(str(settings_file))
    return {name: value for name, value in namespace.items() if name.isupper()}


def load_project(
    folder: str | os.PathLike[str],
    settings_module: str = "mysite.settings",
    *,
    urlconf: str | None = None,
) -> dict[str, Any]:
    """Load the Django project in ``folder`` into this process, as ``python manage.py shell`` does.

    The folder (the one holding ``manage.py``) goes first on ``sys.path``, so its project and app
    packages import as they do under ``manage.py``; the settings are those of ``settings_module``'s
    file, read with :func:`project_settings`, with ``ROOT_URLCONF`` replaced by ``urlconf`` if given
    (``"__main__"``: the notebook's own ``urlpatterns``). Then :func:`configure_django`: the first
    call configures Django and imports the apps; a later call (a re-run) accepts only a new database
    file name. Returns the settings used.
    """
    root = Path(folder).resolve()
    if not (root / "manage.py").is_file():
        raise FileNotFoundError(f"no manage.py in {root}: pass the folder that holds the project")
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    settings_dict = project_settings(root.joinpath(*settings_module.split(".")).with_suffix(".py"))
    if urlconf is not None:
        settings_dict["ROOT_URLCONF"] = urlconf
    configure_django(settings_dict, app_dirs={})
    return settings_dict
