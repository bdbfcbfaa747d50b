"""Records and options: the engine's own types and option tables (no display)."""
import pytest

from papy_engine import script
from papy_gui.model.errors import EditError
from papy_gui.model.items import (IMAP_DEFAULTS, NODE_DEFAULTS, FuncRef, Resource, func_label,
                                  parse_option)

pytestmark = pytest.mark.timeout(30)


def test_the_option_tables_and_function_records_are_the_engines():
    assert NODE_DEFAULTS is script.NODE_DEFAULTS and IMAP_DEFAULTS is script.IMAP_DEFAULTS
    assert FuncRef is script.FuncRef
    assert Resource("p").option("retries") == script.IMAP_DEFAULTS["retries"]


def test_every_engine_option_parses_and_validates():
    assert parse_option("worker_name", " my_worker ") == "my_worker"
    assert parse_option("worker_name", "") is None
    assert parse_option("retries", "3", IMAP_DEFAULTS) == 3
    assert parse_option("start_method", "spawn", IMAP_DEFAULTS) == "spawn"
    assert parse_option("skip_unreachable", "yes", IMAP_DEFAULTS) is True
    for key, text, words in (("retries", "-1", "an int >= 0"),
                             ("start_method", "thread", "'fork', 'spawn', 'forkserver'"),
                             ("skip_unreachable", "maybe", "True or False")):
        with pytest.raises(EditError, match=words) as err:
            parse_option(key, text, IMAP_DEFAULTS)
        assert err.value.field == key


def test_a_dask_resource_is_a_scheduler_address_or_local_n():
    assert parse_option("dask", " tcp://10.0.0.5:8786 ", IMAP_DEFAULTS) == "tcp://10.0.0.5:8786"
    assert parse_option("dask", "local:4", IMAP_DEFAULTS) == "local:4"
    assert parse_option("dask", "", IMAP_DEFAULTS) is None
    for text in ("local:0", "scheduler", "tcp://a b:1"):
        with pytest.raises(EditError, match="local:N") as err:
            parse_option("dask", text, IMAP_DEFAULTS)
        assert err.value.field == "dask"


def test_func_label_names_imported_functions_by_module():
    assert func_label(FuncRef("grep", "papy_plugins.text", "grep")) == "papy_plugins.text.grep"
    assert func_label(FuncRef("f", None, "f", "def f(inbox): pass\n")) == "f"
    assert func_label(FuncRef("g", "__main__", "Cls.g")) == "Cls.g"
