"""TF_CONFIG that is not a cluster description is one clear error, not a traceback later on."""

import json

import pytest

from keras_cnn_course.training.strategy import TF_CONFIG_FORM, cluster_from_tf_config

CLUSTER = {"worker": ["node1:2222", "node2:2222"]}


@pytest.mark.parametrize("text, problem", [
    ("garbage", "is not JSON"),
    ("[1,2]", "is a JSON list, not an object"),
    ('"worker"', "is a JSON str, not an object"),
    ('{"task": {"type": "worker", "index": 0}}', 'has no "cluster"'),
    ('{"cluster": ["node1:2222"]}', 'has no "cluster"'),
    ('{"cluster": {"worker": "node1:2222"}, "task": {"type": "worker", "index": 0}}',
     'cluster "worker" is not a list of "host:port" strings'),
    ('{"cluster": {"worker": ["node1"]}, "task": {"type": "worker", "index": 0}}',
     'cluster "worker" is not a list of "host:port" strings'),
    (json.dumps({"cluster": CLUSTER}), """has no "task" whose "type" is one of ['worker']"""),
    (json.dumps({"cluster": CLUSTER, "task": {"type": "chief", "index": 0}}), 'has no "task"'),
    (json.dumps({"cluster": CLUSTER, "task": {"type": "worker", "index": 2}}),
     'has a task "index" of 2, not an integer in [0, 2)'),
    (json.dumps({"cluster": CLUSTER, "task": {"type": "worker", "index": "0"}}),
     "has a task \"index\" of '0'"),
    (json.dumps({"cluster": CLUSTER, "task": {"type": "worker"}}), 'has a task "index" of None'),
])
def test_what_is_not_a_cluster_description_is_one_line_naming_the_expected_form(text, problem):
    with pytest.raises(ValueError) as error:
        cluster_from_tf_config(text)
    message = str(error.value)
    assert message.startswith(f"TF_CONFIG {problem}")
    assert "\n" not in message and TF_CONFIG_FORM in message
    assert f"(received {text!r})" in message


def test_a_long_tf_config_is_shortened_in_the_message(monkeypatch):
    monkeypatch.setenv("TF_CONFIG", "x" * 5000)
    with pytest.raises(ValueError, match=r"^TF_CONFIG is not JSON \(received 'x+\.\.\.'\)") as error:
        cluster_from_tf_config()
    assert len(str(error.value)) < 400


def test_cluster_descriptions_and_no_cluster_are_read():
    task = {"type": "worker", "index": 1}
    assert cluster_from_tf_config(json.dumps({"cluster": CLUSTER, "task": task})) == CLUSTER
    chief = {"chief": ["a:1"], "worker": ["b:2"]}
    assert cluster_from_tf_config({"cluster": chief, "task": {"type": "chief", "index": 0}}) == chief
    assert cluster_from_tf_config("") == {} and cluster_from_tf_config("{}") == {}
