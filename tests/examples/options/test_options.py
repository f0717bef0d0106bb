def test_the_options_apply(streamster_mock, instaforex_mock):
    assert streamster_mock.platform.seed == 42
    assert instaforex_mock.service.tokens.ttl == 120
