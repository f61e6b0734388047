"""The user's own CSV data: parsing, the task rule, standardisation, resolving a config's sizes,
training on it, and one clear message (file, line, column) for every malformed file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from gradsim.cli import main
from gradsim.engine.config import Config, ConfigError
from gradsim.engine.csv_data import (
    CsvDataError,
    CsvLoadCancelled,
    clear_cache,
    read_csv_table,
    resolve_data,
)
from gradsim.engine.data import make_dataset
from gradsim.engine.export import read_run
from gradsim.engine.simulation import Simulation
from gradsim.engine.stats import STAT_NAMES

SPECIES = ("setosa", "versicolor", "virginica")


def write(folder: Path, text: str, name: str = "data.csv") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def table_text(header: list[str], rows: list[list[object]]) -> str:
    return "\n".join([",".join(header), *(",".join(map(str, row)) for row in rows)]) + "\n"


@pytest.fixture
def iris(tmp_path: Path) -> Path:
    """60 rows: three numeric features (one of them constant) and a text label, last."""
    rng = np.random.default_rng(1)
    rows = [[*(rng.normal(i, 1.0, 2).round(3)), 7.5, SPECIES[i]] for i in np.arange(60) % 3]
    return write(tmp_path, table_text(["sepal", "petal", "const", "species"], rows))


@pytest.fixture
def houses(tmp_path: Path) -> Path:
    """40 rows: a price target (first column, in dollars) and two features."""
    rng = np.random.default_rng(2)
    area = rng.uniform(50, 200, 40).round(1)
    rooms = rng.integers(1, 6, 40)
    price = (3000 * area + 10000 * rooms + rng.normal(0, 5000, 40)).round(2)
    rows = [[p, a, r] for p, a, r in zip(price, area, rooms, strict=True)]
    return write(tmp_path, table_text(["price", "area", "rooms"], rows), "houses.csv")


# -- reading and the task rule ---------------------------------------------------------------


def test_text_labels_make_a_classification(iris: Path) -> None:
    table = read_csv_table(iris)
    assert (table.task, table.target_name) == ("classification", "species")
    assert table.feature_names == ("sepal", "petal", "const")
    assert table.class_names == SPECIES
    assert (table.n_rows, table.n_features, table.output_dim) == (60, 3, 3)
    np.testing.assert_array_equal(table.labels, np.arange(60) % 3)
    np.testing.assert_array_equal(table.targets, np.eye(3)[np.arange(60) % 3])
    assert table.summary() == "data.csv: 60 rows, 3 features, 3 classes of 'species'"


def test_features_are_standardised_and_constant_columns_zero(iris: Path) -> None:
    features = read_csv_table(iris).features
    np.testing.assert_allclose(features[:, :2].mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(features[:, :2].std(axis=0), 1.0)
    np.testing.assert_array_equal(features[:, 2], 0.0)


def test_float_target_is_a_standardised_regression(houses: Path) -> None:
    table = read_csv_table(houses, target_column="price")
    assert (table.task, table.labels, table.class_names) == ("regression", None, None)
    assert table.feature_names == ("area", "rooms")
    assert table.targets.shape == (40, 1)
    assert table.target_mean is not None and table.target_mean > 1e5  # dollars, not z-scores
    np.testing.assert_allclose(table.targets.mean(), 0.0, atol=1e-12)
    np.testing.assert_allclose(table.targets.std(), 1.0)


@pytest.mark.parametrize(
    ("values", "task"),
    [
        ([0, 1, 2, 1, 0, 2, 1, 0], "classification"),  # 3 whole numbers in 8 rows
        (list(range(20)) * 2, "classification"),  # 20 distinct, half the rows
        (list(range(21)) * 2, "regression"),  # 21 distinct: too many for labels
        ([1, 2, 3, 1, 2], "regression"),  # 3 distinct in 5 rows: they hardly repeat
        ([0.5, 1.0, 0.5, 1.0], "regression"),  # not whole numbers
    ],
)
def test_auto_rule(tmp_path: Path, values: list[int], task: str) -> None:
    rows = [[i, v] for i, v in enumerate(values)]
    assert read_csv_table(write(tmp_path, table_text(["x", "y"], rows))).task == task


def test_integer_classes_sort_as_numbers(tmp_path: Path) -> None:
    path = write(tmp_path, table_text(["x", "y"], [[1, 10], [2, 2.0], [3, 10], [4, 2]]))
    table = read_csv_table(path)
    assert table.class_names == (2, 10)  # numerically, and "2.0" is the class 2
    np.testing.assert_array_equal(table.labels, [1, 0, 1, 0])


def test_task_overrides_the_rule(iris: Path, houses: Path) -> None:
    forced = read_csv_table(houses, target_column="rooms", task="regression")
    assert forced.task == "regression" and forced.feature_names == ("price", "area")
    classes = read_csv_table(houses, target_column="rooms", task="classification")
    assert classes.class_names == (1, 2, 3, 4, 5)
    with pytest.raises(CsvDataError, match="regression target must be numeric"):
        read_csv_table(iris, task="regression")


def test_named_target_column_and_default_last(houses: Path) -> None:
    named = read_csv_table(houses, target_column="area")
    assert (named.target_name, named.feature_names) == ("area", ("price", "rooms"))
    last = read_csv_table(houses)
    assert (last.target_name, last.feature_names) == ("rooms", ("price", "area"))
    assert last.task == "classification"  # 1 to 5 rooms: whole numbers that repeat


def test_bom_quotes_spaces_and_blank_lines(tmp_path: Path) -> None:
    text = '\ufeff"a, first", b ,label\n1, 2,"x, y"\n\n3,4,z\n5,6,"x, y"\n6,7,z\n\n\n'
    table = read_csv_table(write(tmp_path, text))
    assert table.feature_names == ("a, first", "b")
    assert table.class_names == ("x, y", "z")
    assert table.n_rows == 4


def test_cache_is_keyed_on_file_and_options(tmp_path: Path, iris: Path) -> None:
    first = read_csv_table(iris)
    assert read_csv_table(str(iris)) is first  # parsed once
    other = read_csv_table(iris, task="classification")
    assert other is not first and other.class_names == first.class_names
    assert not first.features.flags.writeable  # nobody can corrupt the cached copy
    iris.write_text("u,v,w\n1,2,a\n3,4,b\n", encoding="utf-8")  # a new size: re-read
    assert read_csv_table(iris).n_rows == 2


def test_quoted_line_breaks_and_blank_lines_trim_the_table(tmp_path: Path) -> None:
    text = 'a,b,label\n1,2,"two\nlines"\n\n\n3,4,z\n5,6,"two\nlines"\n7,8,z\n\n'
    table = read_csv_table(write(tmp_path, text))
    assert table.n_rows == 4 and table.features.shape == (4, 2)
    assert table.class_names == ("two\nlines", "z")
    with pytest.raises(CsvDataError, match="line 5, column 'b': 'x' is not a number"):
        read_csv_table(write(tmp_path, 'a,b,y\n1,2,"q\nr"\n3,4,s\n5,x,s\n', "bad.csv"))


def big_csv(folder: Path, rows: int, columns: int = 100) -> Path:
    """A table of 5-decimal normal features (about 9 bytes a cell) and a text label."""
    rng = np.random.default_rng(3)
    path = folder / "big.csv"
    with open(path, "w", encoding="utf-8") as out:
        out.write(",".join(f"f{i}" for i in range(columns - 1)) + ",label\n")
        for start in range(0, rows, 2000):
            x = rng.normal(size=(min(2000, rows - start), columns - 1))
            text = np.char.mod("%.5f", x)
            labels = np.asarray(SPECIES)[rng.integers(0, 3, len(x))]
            out.writelines(
                ",".join(row) + f",{label}\n" for row, label in zip(text, labels, strict=True)
            )
    return path


def test_peak_memory_is_at_most_three_times_the_file(tmp_path: Path) -> None:
    import tracemalloc

    path = big_csv(tmp_path, 20_000)
    size = path.stat().st_size
    assert 15e6 < size < 25e6
    tracemalloc.start()
    try:
        table = read_csv_table(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert table.features.shape == (20_000, 99) and table.class_names == SPECIES
    assert peak <= 3 * size, f"peak {peak / 1e6:.1f} MB for a {size / 1e6:.1f} MB file"


def test_progress_is_reported_and_false_cancels(tmp_path: Path) -> None:
    path = big_csv(tmp_path, 5_000, columns=10)
    size = path.stat().st_size
    seen: list[tuple[int, int]] = []
    with pytest.raises(CsvLoadCancelled):
        read_csv_table(path, progress=lambda done, total: not seen.append((done, total)) and False)
    assert len(seen) == 1 and 0 < seen[0][0] < size and seen[0][1] == size
    seen.clear()
    table = read_csv_table(path, progress=lambda done, total: not seen.append((done, total)))
    assert table.n_rows == 5_000  # the cancelled parse left nothing in the cache
    done = [d for d, _ in seen]
    assert len(seen) == 5_000 // 1024 and done == sorted(done) and done[-1] < size
    seen.clear()
    assert read_csv_table(path, progress=lambda d, t: not seen.append((d, t))) is table
    assert not seen  # a cache hit reads nothing


# -- configs and training ---------------------------------------------------------------------


def test_resolve_data_sets_sizes_loss_and_batch(iris: Path, houses: Path) -> None:
    config = resolve_data(Config(dataset="csv", data_path=str(iris), batch_size=64))
    assert (config.input_dim, config.output_dim, config.loss) == (3, 3, "cross_entropy")
    assert config.batch_size == 60  # the whole file, not rows repeated
    assert config.is_classification
    regression = Config(dataset="csv", data_path=str(houses), target_column="price")
    regression = resolve_data(regression.replace(loss="cross_entropy", output_dim=3))
    assert (regression.input_dim, regression.output_dim, regression.loss) == (2, 1, "mse")
    assert regression.batch_size == 40
    other = Config(data_path=str(iris))
    assert resolve_data(other) is other  # data_path is unused by generated datasets


def test_csv_config_needs_a_file_and_round_trips(tmp_path: Path, iris: Path) -> None:
    with pytest.raises(ConfigError, match="dataset = 'csv' needs data_path"):
        Config(dataset="csv")
    config = Config(dataset="csv", data_path=str(iris), target_column="species", task="auto")
    config.save(tmp_path / "run.toml")
    assert Config.load(tmp_path / "run.toml") == config


def test_unresolved_config_says_what_to_set(iris: Path) -> None:
    config = Config(dataset="csv", data_path=str(iris), input_dim=5, output_dim=3)
    with pytest.raises(ConfigError) as info:
        make_dataset(config, np.random.default_rng(0))
    message = str(info.value)
    assert "data.csv has 60 rows, 3 feature columns and 3 classes (column 'species')" in message
    assert "the config has input_dim = 5, loss = 'mse', batch_size = 64" in message
    assert "set input_dim = 3, output_dim = 3, loss = 'cross_entropy', batch_size <= 60" in message


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_training_on_a_csv_is_finite_and_repeatable(iris: Path, dtype: str) -> None:
    config = resolve_data(
        Config(dataset="csv", data_path=str(iris), depth=4, width=8, batch_size=16, dtype=dtype)
    )
    first = Simulation(config)
    assert first.data.inputs.dtype == np.dtype(dtype)
    first.run(6)
    clear_cache()  # the second run parses the file afresh
    second = Simulation(config)
    second.run(6)
    a, b = first.recorder.arrays(), second.recorder.arrays()
    assert np.isfinite(a["loss"]).all() and np.isfinite(a["accuracy"]).all()
    for key in ("loss", "accuracy", *STAT_NAMES):
        np.testing.assert_array_equal(a[key], b[key])


def test_regression_trains(houses: Path) -> None:
    config = resolve_data(
        Config(dataset="csv", data_path=str(houses), target_column="price", depth=3, width=8)
    )
    sim = Simulation(config)
    sim.run(5)
    assert np.isfinite(sim.recorder.arrays()["loss"]).all()
    assert np.isnan(sim.recorder.arrays()["accuracy"]).all()


# -- malformed files --------------------------------------------------------------------------

BAD_FILES = {
    "ragged": ("a,b,c,y\n1,2,3,x\n1,2,3,4,y\n", "bad.csv: line 3 has 5 values, the header has 4"),
    "not a number": ("a,age,y\n1,2,x\n1,abc,y\n", "bad.csv: line 3, column 'age': 'abc' is not"),
    "nan": ("a,b,y\n1,2,x\n1,nan,y\n", "bad.csv: line 3, column 'b': 'nan' is not a finite"),
    "inf": ("a,b,y\n1,-inf,x\n1,2,y\n", "bad.csv: line 2, column 'b': '-inf' is not a finite"),
    "empty cell": ("a,b,y\n1,2,x\n1,,y\n", "bad.csv: line 3, column 'b' is empty"),
    "empty target": ("a,b,y\n1,2,x\n1,3, \n", "bad.csv: line 3, column 'y' is empty"),
    "empty file": ("", "bad.csv is empty: expected a header row"),
    "blank file": ("\n\n", "bad.csv is empty"),
    "header only": ("a,b,y\n", "bad.csv has a header but no data rows"),
    "one column": ("a;b;y\n1;2;x\n", "bad.csv has 1 column ('a;b;y'): it needs at least one"),
    "twice": ("a,a,y\n1,2,x\n", "bad.csv: column name 'a' appears twice in the header"),
    "one class": ("a,b,y\n1,2,x\n3,4,x\n", "bad.csv: the target column 'y' has only one class"),
    "quote": ('a,b,y\n1,2,"x"z\n', "bad.csv: line 2:"),
}


@pytest.mark.parametrize(("text", "expected"), BAD_FILES.values(), ids=BAD_FILES.keys())
def test_malformed_file_is_named_with_line_and_column(
    tmp_path: Path, text: str, expected: str
) -> None:
    with pytest.raises(CsvDataError) as info:
        read_csv_table(write(tmp_path, text, "bad.csv"))
    assert expected in str(info.value)


def test_separator_hint_and_missing_target(tmp_path: Path, iris: Path) -> None:
    with pytest.raises(CsvDataError, match="looks separated by ';'"):
        read_csv_table(write(tmp_path, "a;b\n1;2\n", "semi.csv"))
    with pytest.raises(CsvDataError) as info:
        read_csv_table(iris, target_column="label")
    assert str(info.value).endswith(
        "data.csv has no column 'label' (target_column); its columns are: sepal, petal, "
        "const, species"
    )


def test_missing_directory_and_non_utf8_files(tmp_path: Path) -> None:
    with pytest.raises(CsvDataError, match=r"cannot read data file .*nope\.csv: No such file"):
        read_csv_table(tmp_path / "nope.csv")
    with pytest.raises(CsvDataError, match="cannot read data file"):
        read_csv_table(tmp_path)
    latin = tmp_path / "latin.csv"
    latin.write_bytes("a,b,city\n1,2,K\xf6ln\n".encode("latin-1"))
    with pytest.raises(CsvDataError, match=r"latin\.csv: it is not UTF-8 text"):
        read_csv_table(latin)


def test_csv_data_error_is_a_config_error() -> None:
    assert issubclass(CsvDataError, ConfigError)  # so the CLI and GUI show it as one line


# -- the command line -------------------------------------------------------------------------


def test_cli_run_resolves_the_sizes(
    tmp_path: Path, iris: Path, capsys: pytest.CaptureFixture
) -> None:
    out = tmp_path / "run.csv"
    argv = ["run", "--set", "dataset=csv", f"data_path={iris}", "depth=3", "width=6"]
    assert main([*argv, "--steps", "5", "--out", str(out)]) == 0
    config = read_run(out).config
    assert (config.input_dim, config.output_dim, config.loss) == (3, 3, "cross_entropy")
    assert "ran 5 steps of a custom config" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("text", "expected"),
    [("a,b,y\n1,x,2\n", "line 2, column 'b': 'x' is not a number"), (None, "No such file")],
)
def test_cli_bad_csv_is_one_error_line(
    tmp_path: Path, capsys: pytest.CaptureFixture, text: str | None, expected: str
) -> None:
    path = write(tmp_path, text, "bad.csv") if text is not None else tmp_path / "bad.csv"
    out = tmp_path / "run.csv"
    argv = ["run", "--set", "dataset=csv", f"data_path={path}", "--steps", "5"]
    assert main([*argv, "--out", str(out)]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("gradsim: error: ") and captured.err.count("\n") == 1
    assert expected in captured.err and "bad.csv" in captured.err
    assert captured.out == "" and not out.exists()
