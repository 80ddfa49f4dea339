"""Configuration from the environment."""
import pytest

from cruddur import config


def test_defaults(monkeypatch):
    for k in ("DATABASE_URL", "APP_JWT_SECRET", "FOLDER_INPUT", "FOLDER_OUTPUT", "ASSETS_BASE_URL",
              "MAX_UPLOAD_BYTES", "SNS_TOPIC_ARNS", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(k, raising=False)
    c = config.from_env()
    assert c["DATABASE_URL"] is None and c["JWT_SECRET_GENERATED"] is True and len(c["JWT_SECRET"]) >= 32
    assert c["FOLDER_INPUT"] == "avatars/original" and c["FOLDER_OUTPUT"] == "avatars"
    assert c["ASSETS_BASE_URL"] == "/cdn" and c["MAX_UPLOAD_BYTES"] == 10 * 1024 * 1024
    assert c["SNS_TOPIC_ARNS"] == [] and c["SNS_VERIFY_SIGNATURES"] is True and c["S3_ENDPOINT_URL"] is None
    assert config.from_env()["JWT_SECRET"] != c["JWT_SECRET"]  # random per process, never a fixed default


def test_from_env(monkeypatch):
    monkeypatch.setenv("APP_JWT_SECRET", "s" * 40)
    monkeypatch.setenv("FOLDER_INPUT", "/uploads/avatars/")  # the seed's leading-slash defect
    monkeypatch.setenv("ASSETS_BASE_URL", "https://assets.example.com/")
    monkeypatch.setenv("MAX_UPLOAD_BYTES", "1000")
    monkeypatch.setenv("SNS_TOPIC_ARNS", "arn:a, arn:b ,")
    monkeypatch.setenv("SNS_VERIFY_SIGNATURES", "0")
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:5000")
    c = config.from_env()
    assert c["JWT_SECRET"] == "s" * 40 and c["JWT_SECRET_GENERATED"] is False
    assert c["FOLDER_INPUT"] == "uploads/avatars" and c["ASSETS_BASE_URL"] == "https://assets.example.com"
    assert c["MAX_UPLOAD_BYTES"] == 1000 and c["SNS_TOPIC_ARNS"] == ["arn:a", "arn:b"]
    assert c["SNS_VERIFY_SIGNATURES"] is False and c["S3_ENDPOINT_URL"] == "http://127.0.0.1:5000"


def test_bad_numbers_are_named(monkeypatch):
    monkeypatch.setenv("MAX_UPLOAD_BYTES", "ten megabytes")
    with pytest.raises(ValueError, match="MAX_UPLOAD_BYTES"):
        config.from_env()


def test_bad_database_url():
    from cruddur.db import connect

    with pytest.raises(ValueError, match="mysql"):
        connect("mysql://x/y")
