"""Value distributions: specs that reproduce the run exactly."""

import pytest

from simsearch.labs import labs_config, parse_value

SPECS = ["fixed(v=1.0000001)", "lognormal(mu=1e-07, sigma=0.123456789012345)",
         "lognormal(mu=-0.30000000000000004, sigma=0)", "pareto(alpha=1.4999999999999998)",
         "pareto(alpha=3)", "fixed(v=1e+299)"]


@pytest.mark.parametrize("spec", SPECS)
def test_a_value_spec_round_trips_digit_for_digit(spec):
    value = parse_value(spec)
    assert value.spec == spec
    again = parse_value(value.spec)
    assert again.kernel == value.kernel


def test_the_manifest_keeps_every_digit_of_the_value():
    config = labs_config({"pool": {"ideas": 10, "difficulty": "point(p=0.5)",
                                   "value": "fixed(v=1.0000001)"},
                          "lab": [{"name": "a", "budget": 1.0}]})
    canonical = config.as_dict()["pool"]["value"]
    assert canonical == "fixed(v=1.0000001)"
    assert labs_config({"pool": {**config.as_dict()["pool"]},
                        "lab": [{"name": "a", "budget": 1.0}]}).pool.value.kernel \
        == config.pool.value.kernel
