"""Checkpoints and meta graphs, against files TensorFlow 2.21 wrote (tests/fixtures/checkpoints/,
made by tests/fixtures/make_checkpoint_fixtures.py)."""
from __future__ import annotations

import os
import shutil

import numpy as np
import pytest

import caudal as tf
from caudal import errors
from caudal.checkpoint import bundle
from caudal.checkpoint.table import TableReader, TableWriter

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures", "checkpoints")


def _expected() -> dict[str, np.ndarray]:
    data = np.load(os.path.join(FIXTURES, "expected.npz"))
    return {str(n): data[f"v{i}"] for i, n in enumerate(data["names"])}


EXPECTED = _expected()
DTYPES = {"f32": tf.float32, "f64": tf.float64, "f16": tf.float16, "bf16": tf.bfloat16, "i8": tf.int8,
          "i16": tf.int16, "i32": tf.int32, "i64": tf.int64, "u8": tf.uint8, "flag": tf.bool, "c64": tf.complex64,
          "scope/text": tf.string, "scope/empty": tf.float32}


def _expected_of(fixture: str) -> dict[str, np.ndarray]:
    prefix = fixture + "|"
    return {k[len(prefix):]: v for k, v in EXPECTED.items() if k.startswith(prefix)}


def _assert_value(got: object, want: np.ndarray, name: str) -> None:
    got = np.asarray(got)
    if want.dtype.kind == "S":
        assert [bytes(g) for g in got.reshape(-1)] == [bytes(w) for w in want.reshape(-1)], name
        assert got.shape == want.shape, name
        return
    assert got.shape == want.shape, name
    np.testing.assert_array_equal(got, want, err_msg=name)


def _copy_fixture(name: str, tmp_path: object) -> str:
    target = os.path.join(str(tmp_path), name)
    shutil.copytree(os.path.join(FIXTURES, name), target)
    return target


def _dtype_variables(zero: bool = False) -> list[tf.Variable]:
    values = _expected_of("dtypes")
    result = []
    for name, dtype in DTYPES.items():
        value = values[name]
        if dtype is tf.string:
            value = value.astype(object)
        if zero:
            value = np.zeros_like(value) if dtype is not tf.string else np.array([b"?"] * value.size, dtype=object)
        result.append(tf.Variable(value, dtype=dtype, name=name))
    return result


def _build_model() -> tuple:
    """The model of make_checkpoint_fixtures.py, with the same names."""
    x = tf.placeholder(tf.float32, [None, 5, 5, 2], name="x")
    y = tf.placeholder(tf.float32, [None, 3], name="y")
    init = tf.random_normal_initializer(seed=1)
    with tf.variable_scope("conv"):
        kernel = tf.get_variable("kernel", [3, 3, 2, 4], initializer=init)
        bias = tf.get_variable("bias", [4], initializer=tf.zeros_initializer())
    h = tf.nn.relu(tf.nn.conv2d(x, kernel, [1, 1, 1, 1], "VALID") + bias)
    flat = tf.reshape(h, [-1, 36])
    with tf.variable_scope("dense"):
        w = tf.get_variable("kernel", [36, 3], initializer=init)
        b = tf.get_variable("bias", [3], initializer=tf.zeros_initializer())
    logits = tf.matmul(flat, w) + b
    loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits_v2(labels=y, logits=logits))
    step = tf.train.get_or_create_global_step()
    train = tf.train.AdamOptimizer(0.01).minimize(loss, global_step=step)
    return x, y, train, loss


def _values(sess: tf.Session) -> dict[str, np.ndarray]:
    return {v.op.name: sess.run(v) for v in tf.global_variables()}


# ------------------------------------------------------- TF -> caudal
def test_tf_checkpoint_of_every_dtype_restores_with_the_same_values() -> None:
    variables = _dtype_variables(zero=True)
    saver = tf.train.Saver()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        saver.restore(sess, os.path.join(FIXTURES, "dtypes", "ckpt"))
        for v in variables:
            _assert_value(sess.run(v), _expected_of("dtypes")[v.op.name], v.op.name)


def test_tf_adam_model_restores_slots_and_global_step_and_trains_on_like_tf() -> None:
    x, y, train, loss = _build_model()
    saver = tf.train.Saver()
    names = sorted(v.op.name for v in tf.global_variables())
    assert names == sorted(k for k in _expected_of("model") if k != "loss_after_restore")
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        saver.restore(sess, os.path.join(FIXTURES, "model", "model-3"))
        for name, value in _values(sess).items():
            _assert_value(value, _expected_of("model")[name], name)
        feed = {x: EXPECTED["data|x"], y: EXPECTED["data|y"]}
        np.testing.assert_allclose(sess.run(loss, feed), EXPECTED["model|loss_after_restore"], rtol=1e-5)
        sess.run(train, feed)
        for name, value in _values(sess).items():
            np.testing.assert_allclose(value, _expected_of("model_step4")[name], rtol=1e-4, atol=1e-6, err_msg=name)


def test_reader_reads_every_tf_tensor() -> None:
    reader = tf.train.NewCheckpointReader(os.path.join(FIXTURES, "model", "model-3"))
    shapes = reader.get_variable_to_shape_map()
    assert shapes["conv/kernel/Adam_1"] == [3, 3, 2, 4] and shapes["global_step"] == []
    assert reader.get_variable_to_dtype_map()["global_step"] == tf.int64
    for name in shapes:
        _assert_value(reader.get_tensor(name), _expected_of("model")[name], name)
    assert reader.has_tensor("conv/bias") and not reader.has_tensor("conv/nothing")
    lines = reader.debug_string().decode().splitlines()
    assert lines[0] == "beta1_power (DT_FLOAT) []"
    assert "conv/kernel (DT_FLOAT) [3,3,2,4]" in lines
    with pytest.raises(errors.NotFoundError, match="Key zz not found in checkpoint"):
        reader.get_tensor("zz")


# ------------------------------------------------------- caudal -> TF
def test_caudal_checkpoint_is_byte_identical_to_tf_for_every_dtype(tmp_path: object) -> None:
    _dtype_variables()
    saver = tf.train.Saver()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        path = saver.save(sess, os.path.join(str(tmp_path), "ckpt"), write_state=False)
    assert path == os.path.join(str(tmp_path), "ckpt")
    for suffix in (".index", ".data-00000-of-00001"):
        with open(path + suffix, "rb") as mine, open(os.path.join(FIXTURES, "dtypes", "ckpt" + suffix), "rb") as tfs:
            assert mine.read() == tfs.read(), suffix


def test_caudal_model_checkpoint_is_byte_identical_to_tf(tmp_path: object) -> None:
    _build_model()
    saver = tf.train.Saver()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        saver.restore(sess, os.path.join(FIXTURES, "model", "model-3"))
        path = saver.save(sess, os.path.join(str(tmp_path), "model"), global_step=tf.train.get_global_step())
    assert path.endswith("model-3")
    for suffix in (".index", ".data-00000-of-00001"):
        with open(path + suffix, "rb") as mine, open(os.path.join(FIXTURES, "model", "model-3" + suffix), "rb") as t:
            assert mine.read() == t.read(), suffix


def test_saver_graph_has_tf_node_names_and_saver_def() -> None:
    tf.Variable(1.0, name="v")
    saver = tf.train.Saver()
    names = [op.name for op in tf.get_default_graph().get_operations() if op.name.startswith("save/")]
    assert names == ["save/filename/input", "save/filename", "save/Const", "save/SaveV2/tensor_names",
                     "save/SaveV2/shape_and_slices", "save/SaveV2", "save/control_dependency",
                     "save/RestoreV2/tensor_names", "save/RestoreV2/shape_and_slices", "save/RestoreV2",
                     "save/Assign", "save/restore_all"]
    sd = saver.as_saver_def()
    assert (sd.filename_tensor_name, sd.save_tensor_name, sd.restore_op_name) == \
        ("save/Const:0", "save/control_dependency:0", "save/restore_all")
    assert sd.max_to_keep == 5 and sd.keep_checkpoint_every_n_hours == 10000 and sd.version == tf.train.SaverDef.V2
    assert tf.train.Saver().as_saver_def().restore_op_name == "save_1/restore_all"


def test_sharded_saver_writes_the_same_files_and_cleans_up(tmp_path: object) -> None:
    _dtype_variables()
    saver = tf.train.Saver(sharded=True)
    assert saver.as_saver_def().sharded and saver.as_saver_def().save_tensor_name == "save/Identity:0"
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        path = saver.save(sess, os.path.join(str(tmp_path), "ckpt"))
    assert sorted(os.listdir(str(tmp_path))) == ["checkpoint", "ckpt.data-00000-of-00001", "ckpt.index", "ckpt.meta"]
    for suffix in (".index", ".data-00000-of-00001"):
        with open(path + suffix, "rb") as mine, open(os.path.join(FIXTURES, "dtypes", "ckpt" + suffix), "rb") as t:
            assert mine.read() == t.read(), suffix


# ---------------------------------------------------------- meta graphs
def test_tf_meta_graph_imports_restores_and_trains() -> None:
    saver = tf.train.import_meta_graph(os.path.join(FIXTURES, "mlp", "model-3.meta"))
    assert sorted(v.op.name for v in tf.trainable_variables()) == ["dense/bias", "dense/kernel"]
    assert len(tf.global_variables()) == 9
    train = tf.get_collection("train_op")[0]  # TF's minimize adds it too: it is there twice
    (x,), (y,) = tf.get_collection("inputs"), tf.get_collection("labels")
    assert tf.train.get_global_step() is tf.global_variables()[2]
    with tf.Session() as sess:
        saver.restore(sess, os.path.join(FIXTURES, "mlp", "model-3"))
        for name, value in _values(sess).items():
            _assert_value(value, _expected_of("mlp")[name], name)
        sess.run(train, {x: EXPECTED["data|x"], y: EXPECTED["data|y"]})
        for name, value in _values(sess).items():
            np.testing.assert_allclose(value, _expected_of("mlp_step4")[name], rtol=1e-4, atol=1e-6, err_msg=name)


def test_tf_conv_training_meta_graph_imports_restores_and_trains() -> None:
    """TF's conv + Adam training graph (its conv gradient uses ShapeN) runs one more step in caudal
    and lands where TensorFlow's next step did."""
    saver = tf.train.import_meta_graph(os.path.join(FIXTURES, "model", "model-3.meta"))
    train = tf.get_collection("train_op")[0]
    (x,), (y,) = tf.get_collection("inputs"), tf.get_collection("labels")
    with tf.Session() as sess:
        saver.restore(sess, os.path.join(FIXTURES, "model", "model-3"))
        for name, value in _values(sess).items():
            _assert_value(value, _expected_of("model")[name], name)
        sess.run(train, {x: EXPECTED["data|x"], y: EXPECTED["data|y"]})
        for name, value in _values(sess).items():
            np.testing.assert_allclose(value, _expected_of("model_step4")[name], rtol=1e-4, atol=1e-6, err_msg=name)


def test_tf_meta_graph_with_unsupported_ops_says_which(tmp_path: object) -> None:
    meta = tf.MetaGraphDef()
    with open(os.path.join(FIXTURES, "model", "model-3.meta"), "rb") as f:
        meta.ParseFromString(f.read())
    node = meta.graph_def.node.add()
    node.name = "strange"
    node.op = "NoSuchOpAnywhere"
    path = os.path.join(str(tmp_path), "odd.meta")
    with open(path, "wb") as f:
        f.write(meta.SerializeToString())
    with pytest.raises(errors.NotFoundError, match="Op type not registered 'NoSuchOpAnywhere'"):
        tf.train.import_meta_graph(path)


def test_tf_sharded_meta_graph_saves_and_restores_in_caudal(tmp_path: object) -> None:
    saver = tf.train.import_meta_graph(os.path.join(FIXTURES, "sharded", "mlp.meta"))
    assert saver.as_saver_def().sharded
    with tf.Session() as sess:
        saver.restore(sess, os.path.join(FIXTURES, "sharded", "mlp"))
        for name, value in _values(sess).items():
            _assert_value(value, _expected_of("mlp")[name], name)
        path = saver.save(sess, os.path.join(str(tmp_path), "again"), write_meta_graph=False)
    assert sorted(os.listdir(str(tmp_path))) == ["again.data-00000-of-00001", "again.index", "checkpoint"]
    for suffix in (".index", ".data-00000-of-00001"):
        with open(path + suffix, "rb") as mine, open(os.path.join(FIXTURES, "sharded", "mlp" + suffix), "rb") as t:
            assert mine.read() == t.read(), suffix


def test_export_import_meta_graph_round_trip(tmp_path: object) -> None:
    a = tf.Variable(np.ones((2, 2), np.float32), name="scope/a")
    tf.Variable(3, name="counter", trainable=False)
    total = tf.reduce_sum(a, name="total")
    tf.add_to_collection("outputs", total)
    tf.add_to_collection("numbers", 7)
    tf.add_to_collection("rates", 0.5)
    tf.add_to_collection("words", b"hello")
    saver = tf.train.Saver()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(a.assign([[1.0, 2.0], [3.0, 4.0]]))
        path = saver.save(sess, os.path.join(str(tmp_path), "m"))
    meta = tf.train.export_meta_graph(os.path.join(str(tmp_path), "m.pbtxt"), as_text=True)
    assert meta.meta_info_def.tensorflow_version == "2.21.0"
    assert "VariableV2" in [op.name for op in meta.meta_info_def.stripped_op_list.op]
    assert set(meta.collection_def) == {"variables", "trainable_variables", "outputs", "numbers", "rates", "words"}
    assert list(meta.collection_def["numbers"].int64_list.value) == [7]

    for meta_file in (path + ".meta", os.path.join(str(tmp_path), "m.pbtxt")):
        tf.reset_default_graph()
        restorer = tf.train.import_meta_graph(meta_file)
        assert [v.op.name for v in tf.global_variables()] == ["scope/a", "counter"]
        assert [v.op.name for v in tf.trainable_variables()] == ["scope/a"]
        assert tf.global_variables()[0] is tf.trainable_variables()[0]
        assert tf.get_collection("outputs")[0].name == "total:0"
        assert tf.get_collection("numbers") == [7] and tf.get_collection("rates") == [0.5]
        assert tf.get_collection("words") == [b"hello"]
        with tf.Session() as sess:
            restorer.restore(sess, path)
            assert sess.run(tf.get_collection("outputs")[0]) == 10.0
            assert sess.run(tf.global_variables()[1]) == 3


def test_import_meta_graph_under_a_scope_and_export_scope(tmp_path: object) -> None:
    with tf.name_scope("net"):
        v = tf.Variable([1.0, 2.0], name="v")
    saver = tf.train.Saver()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        path = saver.save(sess, os.path.join(str(tmp_path), "m"), write_meta_graph=False)
    meta = tf.train.export_meta_graph(export_scope="net", clear_devices=True, strip_default_attrs=True)
    assert {n.name for n in meta.graph_def.node} == {"v/initial_value", "v", "v/Assign", "v/read"}
    assert meta.meta_info_def.stripped_default_attrs
    full = saver.export_meta_graph()
    tf.reset_default_graph()
    restorer = tf.train.import_meta_graph(full, import_scope="imported")
    assert restorer.as_saver_def().restore_op_name == "imported/save/restore_all"
    (imported,) = tf.global_variables()
    assert imported.op.name == "imported/net/v"
    del v
    with pytest.raises(errors.NotFoundError, match="Key imported/net/v not found"):
        with tf.Session() as sess:
            tf.train.Saver().restore(sess, path)
    with tf.Session() as sess:
        restorer.restore(sess, path)  # the imported Saver keeps the checkpoint's names
        np.testing.assert_array_equal(sess.run(imported), [1.0, 2.0])


# -------------------------------------------------- state and retention
def test_max_to_keep_deletes_old_checkpoints_and_updates_state(tmp_path: object) -> None:
    v = tf.Variable(0, name="v")
    saver = tf.train.Saver(max_to_keep=2)
    prefix = os.path.join(str(tmp_path), "m")
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for step in range(4):
            sess.run(v.assign(step))
            assert saver.save(sess, prefix, global_step=step) == f"{prefix}-{step}"
    assert saver.last_checkpoints == [f"{prefix}-2", f"{prefix}-3"]
    assert sorted(os.listdir(str(tmp_path))) == ["checkpoint"] + sorted(
        f"m-{s}{ext}" for s in (2, 3) for ext in (".data-00000-of-00001", ".index", ".meta"))
    with open(os.path.join(str(tmp_path), "checkpoint")) as f:
        assert f.read() == (f'model_checkpoint_path: "{prefix}-3"\nall_model_checkpoint_paths: "{prefix}-2"\n'
                            f'all_model_checkpoint_paths: "{prefix}-3"\n')
    assert tf.train.latest_checkpoint(str(tmp_path)) == f"{prefix}-3"
    state = tf.train.get_checkpoint_state(str(tmp_path))
    assert list(state.all_model_checkpoint_paths) == [f"{prefix}-2", f"{prefix}-3"]
    assert tf.train.load_variable(str(tmp_path), "v:0") == 3
    assert tf.train.checkpoint_exists(f"{prefix}-2") and not tf.train.checkpoint_exists(f"{prefix}-1")


def test_state_file_paths_relative_padding_and_recovery(tmp_path: object) -> None:
    tf.Variable(1.0, name="v")
    saver = tf.train.Saver(save_relative_paths=True, pad_step_number=True, max_to_keep=None)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        path = saver.save(sess, os.path.join(str(tmp_path), "m"), global_step=12, write_meta_graph=False)
        assert path.endswith("m-00000012")
        with pytest.raises(ValueError, match="'latest_filename' collides with 'save_path'"):
            saver.save(sess, os.path.join(str(tmp_path), "checkpoint"))
        with pytest.raises(ValueError, match="Parent directory of"):
            saver.save(sess, os.path.join(str(tmp_path), "no", "such", "m"))
    with open(os.path.join(str(tmp_path), "checkpoint")) as f:
        assert f.read() == 'model_checkpoint_path: "m-00000012"\nall_model_checkpoint_paths: "m-00000012"\n'
    assert saver.last_checkpoints == []  # max_to_keep=None keeps no list
    assert tf.train.latest_checkpoint(str(tmp_path)) == path
    other = tf.train.Saver()
    other.recover_last_checkpoints([path, os.path.join(str(tmp_path), "gone")])
    assert other.last_checkpoints == [path]
    other.set_last_checkpoints_with_time([("a", 1.0)])
    assert other.last_checkpoints == ["a"]
    assert tf.train.latest_checkpoint(os.path.join(str(tmp_path), "nothing_here")) is None


def test_generate_and_update_checkpoint_state(tmp_path: object) -> None:
    state = tf.train.generate_checkpoint_state_proto("rel/dir", "rel/dir/m-2", ["rel/dir/m-1"])
    assert state.model_checkpoint_path == "m-2" and list(state.all_model_checkpoint_paths) == ["m-1", "m-2"]
    with pytest.raises(ValueError, match="timestamps"):
        tf.train.generate_checkpoint_state_proto("/d", "/d/m", [], all_model_checkpoint_timestamps=[1.0, 2.0])
    tf.train.update_checkpoint_state(str(tmp_path), "m-5", latest_filename="state")
    assert tf.train.get_checkpoint_state(str(tmp_path), "state").model_checkpoint_path == \
        os.path.join(str(tmp_path), "m-5")
    with pytest.raises(RuntimeError, match="conflicts with path used for checkpoint state"):
        tf.train.update_checkpoint_state(str(tmp_path), os.path.join(str(tmp_path), "checkpoint"))
    with open(os.path.join(str(tmp_path), "checkpoint"), "w") as f:
        f.write('all_model_checkpoint_paths: "x"\n')
    with pytest.raises(ValueError, match="Invalid checkpoint state"):
        tf.train.get_checkpoint_state(str(tmp_path))


# ---------------------------------------------------------- reader APIs
def test_list_load_and_checkpoint_directory() -> None:
    directory = os.path.join(FIXTURES, "model")
    listed = tf.train.list_variables(directory)
    assert listed[0] == ("beta1_power", []) and ("dense/kernel", [36, 3]) in listed
    assert [n for n, _ in listed] == sorted(n for n, _ in listed)
    _assert_value(tf.train.load_variable(directory, "dense/bias"), EXPECTED["model|dense/bias"], "dense/bias")
    assert tf.train.load_checkpoint(directory).has_tensor("global_step")
    with pytest.raises(ValueError, match="Couldn't find 'checkpoint' file"):
        tf.train.load_checkpoint(FIXTURES)
    with pytest.raises(errors.NotFoundError, match="Failed to find any matching files for"):
        tf.train.NewCheckpointReader(os.path.join(FIXTURES, "model", "nope"))


def test_init_from_checkpoint_replaces_initializers() -> None:
    ckpt = os.path.join(FIXTURES, "model", "model-3")
    with tf.variable_scope("new"):
        kernel = tf.get_variable("kernel", [36, 3])
        bias = tf.get_variable("bias", [3])
    conv_bias = tf.get_variable("cb", [4])
    tf.train.init_from_checkpoint(ckpt, {"dense/": "new/", "conv/bias": conv_bias})
    assert kernel.initializer.inputs[1].op.type == "RestoreV2"
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        _assert_value(sess.run(kernel), EXPECTED["model|dense/kernel"], "kernel")
        _assert_value(sess.run(bias), EXPECTED["model|dense/bias"], "bias")
        _assert_value(sess.run(conv_bias), EXPECTED["model|conv/bias"], "cb")
    with pytest.raises(ValueError, match="Tensor missing is not found in"):
        tf.train.init_from_checkpoint(ckpt, {"missing": "cb"})
    with pytest.raises(ValueError, match=r"Shape of variable cb:0 \(\(4,\)\) doesn't match with shape of tensor "
                                         r"dense/bias \(\[3\]\)"):
        tf.train.init_from_checkpoint(ckpt, {"dense/bias": "cb"})
    with pytest.raises(ValueError, match="should map to scope only"):
        tf.train.init_from_checkpoint(ckpt, {"dense": "new/"})


# ---------------------------------------------------------- bad inputs
def _two_variable_checkpoint(tmp_path: object) -> tuple[str, tf.Variable, tf.Variable, tf.train.Saver]:
    a = tf.Variable(np.arange(6, dtype=np.float32).reshape(2, 3), name="a")
    b = tf.Variable(np.int64(7), name="b")
    saver = tf.train.Saver()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        path = saver.save(sess, os.path.join(str(tmp_path), "m"))
    return path, a, b, saver


def test_missing_variable_is_not_found_and_changes_nothing(tmp_path: object) -> None:
    path, a, b, _ = _two_variable_checkpoint(tmp_path)
    c = tf.Variable([1.0], name="c")
    d = tf.Variable([1.0], name="d")
    saver = tf.train.Saver()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(a.assign(np.full((2, 3), 9.0, np.float32)))
        with pytest.raises(errors.NotFoundError) as info:
            saver.restore(sess, path)
        message = str(info.value)
        assert message.startswith("Restoring from checkpoint failed. This is most likely due to a Variable name or "
                                  "other graph key that is missing from the checkpoint.")
        assert "Key c not found in checkpoint" in message and "Key d not found in checkpoint" in message
        np.testing.assert_array_equal(sess.run(a), np.full((2, 3), 9.0))
        assert sess.run(b) == 7
        assert sess.run([c, d]) == [[1.0], [1.0]]


def test_shape_mismatch_is_invalid_argument_with_both_shapes(tmp_path: object) -> None:
    path, *_ = _two_variable_checkpoint(tmp_path)
    tf.reset_default_graph()
    a = tf.Variable(np.zeros((3, 3), np.float32), name="a")
    b = tf.Variable(np.int64(1), name="b")
    saver = tf.train.Saver()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        with pytest.raises(errors.InvalidArgumentError) as info:
            saver.restore(sess, path)
        assert "mismatch between the current graph and the graph from the checkpoint" in str(info.value)
        assert "Assign requires shapes of both tensors to match. lhs shape= [3,3] rhs shape= [2,3]" in str(info.value)
        assert sess.run(b) == 1  # b restores fine alone, but the failed restore committed nothing
        np.testing.assert_array_equal(sess.run(a), np.zeros((3, 3)))


def test_dtype_mismatch_is_invalid_argument(tmp_path: object) -> None:
    path, *_ = _two_variable_checkpoint(tmp_path)
    tf.reset_default_graph()
    tf.Variable(np.zeros((2, 3), np.float64), name="a")
    saver = tf.train.Saver()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        with pytest.raises(errors.InvalidArgumentError, match="tensor_name = a; expected dtype float64 does not "
                                                              "equal original dtype float32"):
            saver.restore(sess, path)


@pytest.mark.parametrize("suffix,offset", [(".index", 20), (".data-00000-of-00001", 2)])
def test_corrupted_file_is_data_loss_naming_it(tmp_path: object, suffix: str, offset: int) -> None:
    path, a, b, saver = _two_variable_checkpoint(tmp_path)
    with open(path + suffix, "r+b") as f:
        f.seek(offset)
        byte = f.read(1)
        f.seek(offset)
        f.write(bytes([byte[0] ^ 1]))
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(b.assign(5))
        with pytest.raises(errors.DataLossError, match=f"{path}{suffix}".replace(".", r"\.")) as info:
            saver.restore(sess, path)
        if suffix == ".index":
            assert "block checksum mismatch" in str(info.value)
        else:
            assert "Checksum does not match" in str(info.value)
        assert sess.run(b) == 5
    if suffix == ".index":
        with pytest.raises(errors.DataLossError, match=r"Unable to read file .*m\.index"):
            tf.train.NewCheckpointReader(path)
    else:
        with pytest.raises(errors.DataLossError, match="Checksum does not match"):
            tf.train.NewCheckpointReader(path).get_tensor("a")


def test_truncated_files_are_data_loss(tmp_path: object) -> None:
    path, *_ = _two_variable_checkpoint(tmp_path)
    with open(path + ".data-00000-of-00001", "r+b") as f:
        f.truncate(10)
    with pytest.raises(errors.DataLossError, match="truncated"):
        tf.train.NewCheckpointReader(path).get_tensor("a")
    with open(path + ".index", "r+b") as f:
        f.truncate(30)
    with pytest.raises(errors.DataLossError, match="m.index"):
        tf.train.NewCheckpointReader(path)


def test_crash_mid_save_keeps_the_previous_checkpoint(tmp_path: object, monkeypatch: pytest.MonkeyPatch) -> None:
    path, a, b, saver = _two_variable_checkpoint(tmp_path)
    before = {name: open(os.path.join(str(tmp_path), name), "rb").read() for name in os.listdir(str(tmp_path))}
    real_encode = bundle._encode_numeric

    def failing_encode(value: object, dtype: object) -> np.ndarray:
        if dtype == tf.int64:  # "b", written after "a": the data file is half written
            raise OSError(28, "No space left on device")
        return real_encode(value, dtype)

    monkeypatch.setattr(bundle, "_encode_numeric", failing_encode)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(a.assign(np.zeros((2, 3), np.float32)))
        with pytest.raises(errors.ResourceExhaustedError, match="No space left on device"):
            saver.save(sess, path)
    after = {name: open(os.path.join(str(tmp_path), name), "rb").read() for name in os.listdir(str(tmp_path))}
    assert after == before  # no temporary file left, old files and state untouched
    monkeypatch.undo()
    np.testing.assert_array_equal(tf.train.load_variable(path, "a"), np.arange(6).reshape(2, 3))


def test_other_bad_inputs(tmp_path: object) -> None:
    with pytest.raises(ValueError, match="No variables to save"):
        tf.train.Saver()
    assert tf.train.Saver(allow_empty=True).save(tf.Session(), os.path.join(str(tmp_path), "x")) is None
    v = tf.Variable(1.0, name="v")
    with pytest.raises(ValueError, match="At least two variables have the same name: v"):
        tf.train.Saver({"v": v, "w": v, "v2": v}) if False else tf.train.Saver([v, v])
    with pytest.raises(TypeError, match="Not a variable"):
        tf.train.Saver({"t": tf.constant(1.0)})
    with pytest.raises(ValueError, match="If `var_list` is provided then build cannot be deferred"):
        tf.train.Saver([v], defer_build=True)
    saver = tf.train.Saver([v])
    with tf.Session() as sess:
        with pytest.raises(errors.FailedPreconditionError, match="Attempting to use uninitialized value v"):
            saver.save(sess, os.path.join(str(tmp_path), "m"))
        with pytest.raises(ValueError, match="The passed save_path is not a valid checkpoint"):
            saver.restore(sess, os.path.join(str(tmp_path), "m"))
        with pytest.raises(ValueError, match="'latest_filename' must not contain path components"):
            saver.save(sess, os.path.join(str(tmp_path), "m"), latest_filename="a/b")
    assert not os.path.exists(os.path.join(str(tmp_path), "m.index"))


def test_saver_with_dict_reshape_and_sequential_restore(tmp_path: object) -> None:
    v = tf.Variable(np.arange(6, dtype=np.float32), name="v")
    saver = tf.train.Saver({"renamed": v})
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        path = saver.save(sess, os.path.join(str(tmp_path), "m"))
    assert tf.train.list_variables(path) == [("renamed", [6])]
    tf.reset_default_graph()
    w = tf.Variable(np.zeros((2, 3), np.float32), name="w")
    u = tf.Variable(np.zeros((2, 3), np.float32), name="u")
    restorer = tf.train.Saver({"renamed": w}, reshape=True)
    sequential = tf.train.Saver({"renamed": u}, reshape=True, restore_sequentially=True)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        restorer.restore(sess, path)
        sequential.restore(sess, path)
        np.testing.assert_array_equal(sess.run(w), np.arange(6).reshape(2, 3))
        np.testing.assert_array_equal(sess.run(u), np.arange(6).reshape(2, 3))


def test_raw_save_and_restore_ops(tmp_path: object) -> None:
    from caudal.ops.checkpoint_ops import restore_v2, save_v2

    prefix = os.path.join(str(tmp_path), "raw")
    save = save_v2(prefix, ["x", "y"], ["", ""], [tf.constant([1, 2, 3]), tf.constant("s")])
    x, y, x_slice = restore_v2(prefix, ["x", "y", "x"], ["", "", "3 0,2"], [tf.int32, tf.string, tf.int32])
    assert x_slice.shape.as_list() == [2]
    with tf.Session() as sess:
        sess.run(save)
        got = sess.run([x, y, x_slice])
    assert got[0].tolist() == [1, 2, 3] and got[1] == b"s" and got[2].tolist() == [1, 2]


# ---------------------------------------------------------- the table
def test_table_round_trip_across_blocks_and_rejects_unsorted_keys(tmp_path: object) -> None:
    path = os.path.join(str(tmp_path), "t")
    keys = [f"key{i:06d}".encode() + b"\xff" * (i % 3) for i in range(5000)]
    with open(path, "wb") as f:
        writer = TableWriter(f, block_size=4096)
        for i, key in enumerate(keys):
            writer.add(key, str(i).encode() * (i % 5))
        writer.finish()
    with open(path, "rb") as f:
        items = list(TableReader(f.read(), path).items())
    assert [k for k, _ in items] == keys
    assert items[17][1] == b"17" * 2
    with open(path, "wb") as f:
        writer = TableWriter(f)
        writer.add(b"b", b"")
        with pytest.raises(ValueError, match="increasing order"):
            writer.add(b"a", b"")
