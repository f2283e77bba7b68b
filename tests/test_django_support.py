"""backendlab.django_support: Django configured once per process, a fresh run every time.

Django's settings can be configured only once per process, and other tests of this suite configure
Django with their own settings; every test that configures Django therefore runs in a child process.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
import types
from pathlib import Path

import pytest

from backendlab import django_support
from backendlab.django_support import ALLOW_ASYNC_UNSAFE, in_running_event_loop


def test_in_running_event_loop_is_true_only_inside_a_loop() -> None:
    async def inside() -> bool:
        return in_running_event_loop()

    assert in_running_event_loop() is False
    assert asyncio.run(inside()) is True


def test_async_unsafe_variable_is_set_only_where_a_loop_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ALLOW_ASYNC_UNSAFE, "placeholder")  # so that monkeypatch restores the original state
    monkeypatch.delenv(ALLOW_ASYNC_UNSAFE)
    assert django_support._allow_sync_orm_in_kernel() is False
    assert ALLOW_ASYNC_UNSAFE not in os.environ

    async def inside() -> bool:
        return django_support._allow_sync_orm_in_kernel()

    assert asyncio.run(inside()) is True
    assert os.environ[ALLOW_ASYNC_UNSAFE] == "true"


def test_comparable_settings_ignore_only_the_database_file_names() -> None:
    first = {"DEBUG": False, "DATABASES": {"default": {"ENGINE": "sqlite3", "NAME": Path("/a/db.sqlite3")}}}
    second = {"DEBUG": False, "DATABASES": {"default": {"ENGINE": "sqlite3", "NAME": Path("/b/db.sqlite3")}}}
    other_engine = {"DEBUG": False, "DATABASES": {"default": {"ENGINE": "postgresql", "NAME": "x"}}}
    assert django_support._comparable(first) == django_support._comparable(second)
    assert django_support._comparable(first) != django_support._comparable(other_engine)
    assert django_support._comparable({**first, "DEBUG": True}) != django_support._comparable(first)
    assert first["DATABASES"]["default"]["NAME"] == Path("/a/db.sqlite3")  # the caller's dict is untouched


def test_in_memory_app_package_moves_to_each_run_folder(tmp_path: Path) -> None:
    name = "backendlab_test_inmemory_app"
    try:
        django_support._install_app_package(name, tmp_path / "run1")
        package = sys.modules[name]
        assert package.__path__ == [str(tmp_path / "run1")]
        (tmp_path / "run1" / "helper.py").write_text("VALUE = 1\n")
        assert __import__(f"{name}.helper", fromlist=["VALUE"]).VALUE == 1

        django_support._install_app_package(name, tmp_path / "run2")
        assert sys.modules[name] is package  # the same module object, moved
        assert package.__path__ == [str(tmp_path / "run2")]
        assert f"{name}.helper" not in sys.modules  # the previous run's submodules are forgotten
        (tmp_path / "run2" / "helper.py").write_text("VALUE = 2\n")
        assert __import__(f"{name}.helper", fromlist=["VALUE"]).VALUE == 2
    finally:
        for module_name in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
            del sys.modules[module_name]
        django_support._app_packages.pop(name, None)


def test_in_memory_app_package_refuses_real_modules_and_dotted_names(tmp_path: Path) -> None:
    real = __import__("json")
    with pytest.raises(RuntimeError, match="real module 'json'"):
        django_support._install_app_package("json", tmp_path)
    with pytest.raises(ValueError, match="top-level module name"):
        django_support._install_app_package("a.b", tmp_path)
    assert sys.modules["json"] is real and isinstance(real, types.ModuleType)


CHILD = r"""
import asyncio, io, os, sys, tempfile, warnings
from pathlib import Path

from backendlab.django_support import ALLOW_ASYNC_UNSAFE, configure_django, end_run, forget_models

warnings.simplefilter("error")  # "Model ... was already registered" would fail the run


def settings_for(work, **overrides):
    settings = {
        "DEBUG": False,
        "SECRET_KEY": "test",
        "ALLOWED_HOSTS": ["127.0.0.1"],
        "INSTALLED_APPS": ["django.contrib.auth", "django.contrib.contenttypes", "notes"],
        "ROOT_URLCONF": "__main__",
        "DATABASES": {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": work / "db.sqlite3"}},
        "DEFAULT_AUTO_FIELD": "django.db.models.BigAutoField",
        "USE_TZ": True,
    }
    settings.update(overrides)
    return settings


def one_run(work, expect_first):
    first = configure_django(settings_for(work), app_dirs={"notes": work / "notes"})
    assert first is expect_first, first
    from django.apps import apps
    from django.conf import settings
    from django.core.management import call_command
    from django.db import models

    assert settings.DATABASES["default"]["NAME"] == work / "db.sqlite3"
    assert apps.get_app_config("notes").path == str(work / "notes")
    forgotten = forget_models("notes")
    assert forgotten == ([] if expect_first else ["note"]), forgotten

    class Note(models.Model):
        text = models.CharField(max_length=50)

        class Meta:
            app_label = "notes"

    out = io.StringIO()
    call_command("makemigrations", "notes", interactive=False, stdout=out)
    call_command("migrate", interactive=False, stdout=out)
    assert sorted(p.name for p in (work / "notes" / "migrations").glob("*.py")) == ["0001_initial.py", "__init__.py"]
    assert Note.objects.count() == 0  # a fresh database on every run
    Note.objects.create(text="hello")

    from django.contrib.auth.models import Permission
    codenames = set(Permission.objects.filter(content_type__app_label="notes").values_list("codename", flat=True))
    assert codenames == {"add_note", "change_note", "delete_note", "view_note"}, codenames

    # Server threads open their own connection to the same file.
    import threading
    seen = []
    def other_thread():
        from django.db import connections
        seen.append(Note.objects.count())
        connections.close_all()
    thread = threading.Thread(target=other_thread)
    thread.start()
    thread.join()
    assert seen == [1], seen
    return Note


with tempfile.TemporaryDirectory() as first_dir:
    one_run(Path(first_dir), expect_first=True)
    assert ALLOW_ASYNC_UNSAFE not in os.environ  # no event loop in this thread: not set
    end_run()


async def as_in_a_kernel():
    with tempfile.TemporaryDirectory() as second_dir:
        one_run(Path(second_dir), expect_first=False)
        assert os.environ[ALLOW_ASYNC_UNSAFE] == "true"  # set because a loop runs here
        try:
            configure_django(
                settings_for(Path(second_dir), DEBUG=True), app_dirs={"notes": Path(second_dir) / "notes"}
            )
        except RuntimeError as exc:
            assert "DEBUG" in str(exc) and "Restart the kernel" in str(exc), exc
        else:
            raise AssertionError("changed settings were accepted")
        end_run()
        assert not [m for m in sys.modules if m.startswith("notes.")]

asyncio.run(as_in_a_kernel())
print("child ok")
"""


def run_child_ok(args: list[str], cwd: Path) -> None:
    """Run ``python -c <args>`` in a fresh interpreter without the kernel-only variables; it must print ``child ok``."""
    env = {key: value for key, value in os.environ.items() if key not in (ALLOW_ASYNC_UNSAFE, "DJANGO_SETTINGS_MODULE")}
    finished = subprocess.run(
        [sys.executable, "-c", *args], capture_output=True, text=True, timeout=120, cwd=cwd, env=env
    )
    assert finished.returncode == 0, finished.stderr[-3000:]
    assert finished.stdout.strip() == "child ok"
    assert finished.stderr == ""


def test_configure_twice_in_one_process_gives_a_fresh_run(tmp_path: Path) -> None:
    run_child_ok([textwrap.dedent(CHILD)], tmp_path)


def test_project_settings_are_the_upper_case_names_read_afresh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings_file = tmp_path / "settings.py"
    settings_file.write_text(
        "import os\nfrom pathlib import Path\n"
        "BASE_DIR = Path(__file__).resolve().parent\n"
        "DEBUG = True\nhelper = 1\nNAME = os.environ.get('BACKENDLAB_TEST_NAME', 'default')\n"
    )
    monkeypatch.setenv("BACKENDLAB_TEST_NAME", "first")
    first = django_support.project_settings(settings_file)
    assert first == {"BASE_DIR": tmp_path.resolve(), "DEBUG": True, "NAME": "first"}  # no os, Path or helper
    monkeypatch.setenv("BACKENDLAB_TEST_NAME", "second")
    assert django_support.project_settings(settings_file)["NAME"] == "second"  # executed again, not cached


def test_load_project_needs_the_folder_that_holds_manage_py(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no manage.py"):
        django_support.load_project(tmp_path)


PROJECT_FILES = {
    "manage.py": "# the folder's marker; never run here\n",
    "site_under_test/__init__.py": "",
    "site_under_test/settings.py": textwrap.dedent(
        """\
        import os
        from pathlib import Path

        BASE_DIR = Path(__file__).resolve().parent.parent
        SECRET_KEY = "test"
        DEBUG = False
        ALLOWED_HOSTS = ["127.0.0.1"]
        INSTALLED_APPS = ["django.contrib.auth", "django.contrib.contenttypes", "shelf"]
        ROOT_URLCONF = "site_under_test.urls"
        DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": os.environ["TEST_DATABASE"]}}
        DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
        """
    ),
    "shelf/__init__.py": "",
    "shelf/models.py": textwrap.dedent(
        """\
        from django.db import models


        class Book(models.Model):
            title = models.CharField(max_length=50)
        """
    ),
}

PROJECT_CHILD = r"""
import asyncio, os, sys, tempfile
from pathlib import Path

from backendlab.django_support import ALLOW_ASYNC_UNSAFE, load_project

project = Path(sys.argv[1])


def one_run(database):
    os.environ["TEST_DATABASE"] = str(database)
    used = load_project(project, "site_under_test.settings", urlconf="__main__")
    from django.conf import settings
    from django.core.management import call_command
    from shelf.models import Book  # the project's own module, from its folder

    assert used["ROOT_URLCONF"] == settings.ROOT_URLCONF == "__main__"
    assert settings.DATABASES["default"]["NAME"] == str(database)
    assert sys.modules["shelf.models"].__file__ == str(project.resolve() / "shelf" / "models.py")
    call_command("migrate", run_syncdb=True, verbosity=0)
    assert Book.objects.count() == 0  # this run's new, empty database
    Book.objects.create(title="Dune")


async def as_in_a_kernel():
    from django.core.exceptions import SynchronousOnlyOperation

    with tempfile.TemporaryDirectory() as first, tempfile.TemporaryDirectory() as second:
        one_run(Path(first) / "db.sqlite3")
        assert os.environ[ALLOW_ASYNC_UNSAFE] == "true"
        one_run(Path(second) / "db.sqlite3")  # a re-run: same settings, a new database file
        from shelf.models import Book
        # Why the variable is set in a kernel: without it, a query inside a running event loop is refused.
        del os.environ[ALLOW_ASYNC_UNSAFE]
        try:
            Book.objects.count()
        except SynchronousOnlyOperation:
            pass
        else:
            raise AssertionError("a query inside a running event loop was not refused")
        os.environ[ALLOW_ASYNC_UNSAFE] = "true"
        from django.db import connections
        connections.close_all()

asyncio.run(as_in_a_kernel())
print("child ok")
"""


def test_load_project_configures_once_and_moves_to_each_new_database(tmp_path: Path) -> None:
    project = tmp_path / "project"
    for name, text in PROJECT_FILES.items():
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text(text)
    run_child_ok([PROJECT_CHILD, str(project)], tmp_path)
