"""SavedModels both ways: TensorFlow-written ones load and predict in caudal (fixtures made by
tests/fixtures/make_saved_model_fixtures.py), caudal's load back, and the builder's rules and errors are TF's."""
from __future__ import annotations

import json
import os
import pathlib
import shutil

import numpy as np
import pytest

import caudal as tf

FIXTURES = pathlib.Path(__file__).parent / "fixtures" / "saved_models"
EXPECTED = json.loads((FIXTURES / "expected.json").read_text())
X = np.array(EXPECTED["x"], np.float32)


def test_tensorflow_simple_save_loads_and_predicts():
    with tf.Graph().as_default(), tf.Session() as sess:
        meta_graph = tf.saved_model.loader.load(sess, [tf.saved_model.tag_constants.SERVING],
                                                str(FIXTURES / "tf_simple_save"))
        signature = meta_graph.signature_def[tf.saved_model.signature_constants.DEFAULT_SERVING_SIGNATURE_DEF_KEY]
        assert signature.method_name == tf.saved_model.signature_constants.PREDICT_METHOD_NAME
        x = tf.saved_model.utils.get_tensor_from_tensor_info(signature.inputs["x"])
        out = tf.saved_model.utils.get_tensor_from_tensor_info(signature.outputs["probabilities"])
        np.testing.assert_allclose(sess.run(out, {x: X}), EXPECTED["probabilities"], rtol=1e-6)


def test_tensorflow_builder_model_runs_its_main_op_with_assets_and_has_both_meta_graphs(tmp_path):
    export_dir = str(FIXTURES / "tf_builder")
    with tf.Graph().as_default(), tf.Session() as sess:
        meta_graph = tf.saved_model.load(sess, ["serve"], export_dir)
        assert "saved_model_assets" in meta_graph.collection_def  # TF 2.21's builder lists assets there
        assert (FIXTURES / "tf_builder" / "assets" / "vocab.txt").read_text() == "a\nb\nc\n"
        logits = sess.graph.get_tensor_by_name(meta_graph.signature_def["predict"].outputs["logits"].name)
        np.testing.assert_allclose(sess.run(logits, {"x:0": X}), EXPECTED["logits"], rtol=1e-6)
        assert sess.run("counter:0") == EXPECTED["counter"]  # a local variable, set by the main op
    with tf.Graph().as_default(), tf.Session() as sess:
        tf.saved_model.load(sess, ["extra", "train"], export_dir)
        np.testing.assert_allclose(sess.run("logits:0", {"x:0": X}), EXPECTED["logits"], rtol=1e-6)


def _build_model(export_dir, as_text=False):
    x = tf.placeholder(tf.float32, [None, 3], name="x")
    w = tf.get_variable("w", initializer=np.arange(6, dtype=np.float32).reshape(3, 2))
    y = tf.identity(tf.matmul(x, w), name="y")
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        builder = tf.saved_model.builder.SavedModelBuilder(export_dir)
        builder.add_meta_graph_and_variables(
            sess, [tf.saved_model.SERVING],
            {"serving_default": tf.saved_model.predict_signature_def({"x": x}, {"y": y})})
        builder.add_meta_graph(["train"])
        return builder.save(as_text=as_text)


@pytest.mark.parametrize("as_text", [False, True])
def test_caudal_saved_model_round_trip(tmp_path, as_text):
    export_dir = str(tmp_path / "model")
    with tf.Graph().as_default():
        path = _build_model(export_dir, as_text)
    assert path.endswith(b".pbtxt" if as_text else b".pb")
    assert sorted(os.listdir(tmp_path / "model" / "variables")) == ["variables.data-00000-of-00001", "variables.index"]
    for tags in (["serve"], ["train"]):
        with tf.Graph().as_default(), tf.Session() as sess:
            tf.saved_model.loader.load(sess, tags, export_dir)
            np.testing.assert_allclose(sess.run("y:0", {"x:0": X}), X @ np.arange(6).reshape(3, 2), rtol=1e-6)


def test_unknown_tags_name_the_available_ones(tmp_path):
    with tf.Graph().as_default(), tf.Session() as sess, pytest.raises(RuntimeError) as info:
        tf.saved_model.loader.load(sess, ["gpu"], str(FIXTURES / "tf_simple_save"))
    assert str(info.value) == ("MetaGraphDef associated with tags 'gpu' could not be found in SavedModel, with "
                               "available tags '[{'serve'}]'. To inspect available tag-sets in the SavedModel, please "
                               "use the SavedModel CLI: `saved_model_cli`.")


def test_a_missing_variables_file_is_not_found_and_the_directory_is_untouched(tmp_path):
    export_dir = tmp_path / "model"
    shutil.copytree(FIXTURES / "tf_simple_save", export_dir)
    os.remove(export_dir / "variables" / "variables.data-00000-of-00001")
    before = sorted(os.listdir(export_dir / "variables"))
    with tf.Graph().as_default(), tf.Session() as sess, pytest.raises(tf.errors.NotFoundError):
        tf.saved_model.loader.load(sess, ["serve"], str(export_dir))
    assert sorted(os.listdir(export_dir / "variables")) == before


def test_a_directory_without_a_saved_model(tmp_path):
    assert not tf.saved_model.loader.maybe_saved_model_directory(str(tmp_path))
    assert tf.saved_model.loader.maybe_saved_model_directory(str(FIXTURES / "tf_builder"))
    with tf.Graph().as_default(), tf.Session() as sess, pytest.raises(OSError, match="SavedModel file does not exist"):
        tf.saved_model.loader.load(sess, ["serve"], str(tmp_path))


def test_builder_refuses_a_non_empty_directory_and_writes_nothing(tmp_path):
    (tmp_path / "keep.txt").write_text("mine")
    with pytest.raises(AssertionError, match="already exists, and isn't empty"):
        tf.saved_model.builder.SavedModelBuilder(str(tmp_path))
    assert os.listdir(tmp_path) == ["keep.txt"]


def test_builder_order_and_signature_rules(tmp_path):
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [2], name="x")
        tf.Variable(1.0, name="v")
        builder = tf.saved_model.builder.SavedModelBuilder(str(tmp_path / "m"))
        with pytest.raises(AssertionError, match="has not been saved yet"):
            builder.add_meta_graph(["serve"])
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            bad = tf.saved_model.build_signature_def({"x": tf.saved_model.build_tensor_info(x)}, {}, "m")
            bad.inputs["x"].ClearField("name")
            with pytest.raises(AssertionError, match="must have one of the 'encoding' fields"):
                builder.add_meta_graph_and_variables(sess, ["serve"], {"s": bad})
            with pytest.raises(KeyError, match="__saved_model_init_op"):
                good = tf.saved_model.build_signature_def({"x": tf.saved_model.build_tensor_info(x)}, {}, "m")
                builder.add_meta_graph_and_variables(sess, ["serve"], {"__saved_model_init_op": good})
            builder.add_meta_graph_and_variables(sess, ["serve"])
            with pytest.raises(AssertionError, match="has already been saved"):
                builder.add_meta_graph_and_variables(sess, ["other"])
        assert not (tmp_path / "m" / "saved_model.pb").exists()  # written by save() only, last
        builder.save()
        assert (tmp_path / "m" / "saved_model.pb").exists()


def test_tensor_info_and_signature_helpers():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 3], name="x")
        info = tf.saved_model.utils.build_tensor_info(x)
        assert info.name == "x:0" and info.dtype == tf.float32.as_datatype_enum
        assert [d.size for d in info.tensor_shape.dim] == [-1, 3]
        examples = tf.placeholder(tf.string, [None])
        classify = tf.saved_model.classification_signature_def(examples, None, tf.zeros([2, 3]))
        assert tf.saved_model.is_valid_signature(classify)
        with pytest.raises(ValueError, match="Classification scores must be a float32 Tensor"):
            tf.saved_model.classification_signature_def(examples, None, tf.zeros([2], tf.int32))
        with pytest.raises(ValueError, match="Prediction inputs cannot be None or empty"):
            tf.saved_model.predict_signature_def({}, {"y": x})


def test_cli_show_and_run(tmp_path, capsys):
    from caudal.tools import saved_model_cli

    export_dir = str(FIXTURES / "tf_builder")
    assert saved_model_cli.main(["show", "--dir", export_dir]) == 0
    assert capsys.readouterr().out == \
        "The given SavedModel contains the following tag-sets:\n'serve'\n'extra, train'\n"
    assert saved_model_cli.main(["show", "--dir", export_dir, "--tag_set", "serve", "--signature_def", "predict"]) == 0
    shown = capsys.readouterr().out
    assert "inputs['x'] tensor_info:\n      dtype: DT_FLOAT\n      shape: (-1, 3)\n      name: x:0" in shown
    assert shown.endswith("Method name is: tensorflow/serving/predict\n")
    np.save(tmp_path / "x.npy", X)
    assert saved_model_cli.main(["run", "--dir", export_dir, "--tag_set", "serve", "--signature_def", "predict",
                                 "--inputs", f"x={tmp_path / 'x.npy'}", "--outdir", str(tmp_path / "out")]) == 0
    np.testing.assert_allclose(np.load(tmp_path / "out" / "logits.npy"), EXPECTED["logits"], rtol=1e-6)
    assert saved_model_cli.main(["run", "--dir", export_dir, "--tag_set", "serve", "--signature_def", "predict",
                                 "--input_exprs", "x=np.ones((1, 3))"]) == 0
    assert capsys.readouterr().out.splitlines()[-2] == "Result for output key logits:"


def test_cli_input_expressions_are_never_evaluated(capsys):
    from caudal.tools import saved_model_cli

    assert saved_model_cli.parse_input_exprs("a=[[1, 2]];b=np.full((2,), 3.5)")["b"].tolist() == [3.5, 3.5]
    code = saved_model_cli.main(["run", "--dir", str(FIXTURES / "tf_builder"), "--tag_set", "serve",
                                 "--signature_def", "predict", "--input_exprs", "x=__import__('os').getcwd()"])
    assert code == 1 and "only np." in capsys.readouterr().err
