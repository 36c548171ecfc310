"""The environment every test and every notebook re-run uses: offline, no pacing, and
a fixed seed so that replies at temperature > 0 are the same on every run."""

OFFLINE_ENV = {
    "COURSE_OFFLINE": "1",
    "COURSE_OFFLINE_SEED": "0",
    "COURSE_OFFLINE_DELAY": "0",
    # A developer's own .env (key, base URL, spend cap) must not change what tests see.
    "COURSE_IGNORE_DOTENV": "1",
}
# Never let a developer's real settings leak into a test or a committed output.
REMOVED = ("OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_ORG_ID", "OPENAI_PROJECT_ID", "COURSE_SPEND_CAP_USD")


def apply(environ) -> None:
    for name in REMOVED:
        environ.pop(name, None)
    environ.update(OFFLINE_ENV)
