import time
from tests.browser.conftest import sign_in
def test_timing(page, live_server):
    for i in range(3):
        page.context.clear_cookies()
        t=time.monotonic(); page.goto("/login"); a=time.monotonic()-t
        t=time.monotonic(); sign_in(page, live_server, "member@example.org"); b=time.monotonic()-t
        t=time.monotonic(); page.goto("/g/miasta/"); c=time.monotonic()-t
        print(f"login page {a:.2f} sign_in {b:.2f} group {c:.2f}")
