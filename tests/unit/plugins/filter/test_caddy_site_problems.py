# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.asgi.deploy.plugins.filter.caddy_site_problems import caddy_site_problems

GOOD = [{"domains": ["example.com", "www.example.com"], "tls": "acme"},
        {"domains": ["10.0.0.5"], "tls": "internal", "upstreams": ["unix//run/app/app.sock", "[::1]:8000"]}]


def test_good_sites_have_no_problem():
    assert caddy_site_problems(GOOD, upstreams=["app1:8000"], acme_email="ops@example.com",
                               acme_ca="https://ca.example/dir", metrics_listen="127.0.0.1:9180") == []


@pytest.mark.parametrize("sites, upstreams, expected", [
    ([], [], "caddy_sites is empty: Caddy would serve nothing"),
    ([{"domains": []}], ["a:1"], "caddy_sites[0].domains must name at least one domain"),
    ([{"domains": ["not a domain!"]}], ["a:1"], "caddy_sites[0].domains: 'not a domain!' is not a domain name"),
    ([{"domains": ["a.example"]}, {"domains": ["A.example"]}], ["a:1"],
     "caddy_sites[1].domains: 'A.example' is already served by caddy_sites[0]"),
    ([{"domains": ["a.example"]}], ["app:0"], "caddy_sites[0] upstream 'app:0' has port 0; a port is 1 to 65535"),
    ([{"domains": ["a.example"], "upstreams": ["app:70000"]}], [], "upstream 'app:70000' has port 70000"),
    ([{"domains": ["a.example"], "upstreams": ["http//app"]}], [], "'http//app' is not host:port or unix//path"),
    ([{"domains": ["a.example"], "tls": "files"}], ["a:1"], "has tls: files but no tls_cert and tls_key"),
])
def test_each_problem_is_named(sites, upstreams, expected):
    problems = caddy_site_problems(sites, upstreams=upstreams)
    assert any(expected in p for p in problems), problems


def test_acme_and_metrics_settings():
    problems = caddy_site_problems(GOOD, acme_email="ops-at-example.com", acme_ca="http://ca", metrics_listen="9180")
    assert problems == ["caddy_acme_email must be an email address, got 'ops-at-example.com'",
                        "caddy_acme_ca must be an https:// directory URL, got 'http://ca'",
                        "caddy_metrics_listen must be host:port, got '9180'"]


@pytest.mark.parametrize("size, keep", [(0, 10), (100, -1), (True, 10), ("100MiB", 10), (100, 2.5)])
def test_the_access_log_roll_settings_are_whole_numbers_of_one_or_more(size, keep):
    problems = caddy_site_problems(GOOD, roll_size_mb=size, roll_keep=keep)
    bad = "caddy_access_log_roll_size_mb" if size != 100 else "caddy_access_log_roll_keep"
    assert problems == ["%s must be a whole number of 1 or more, got %r" % (bad, size if size != 100 else keep)]


def test_the_smallest_roll_settings_are_accepted():
    assert caddy_site_problems(GOOD, roll_size_mb=1, roll_keep=1) == []


@pytest.mark.parametrize("threads", [-1, True, "2", 1.5])
def test_gomaxprocs_is_zero_or_a_whole_number_of_threads(threads):
    assert caddy_site_problems(GOOD, gomaxprocs=threads) == [
        "caddy_gomaxprocs must be 0 (the role sets Caddy's share of the CPUs) or a whole number of threads of 1 or "
        "more, got %r" % (threads,)]


@pytest.mark.parametrize("threads", [0, 1, 16])
def test_gomaxprocs_of_zero_or_more_is_accepted(threads):
    assert caddy_site_problems(GOOD, gomaxprocs=threads) == []


def test_not_a_list():
    with pytest.raises(AnsibleFilterError, match="must be a list"):
        caddy_site_problems({"domains": ["a"]})


TAKEN = ['/etc/caddy/sites.d/api.caddy:# asgi.deploy sites: {"name": "api", "domains": ["api.example", "www.example"]}',
         '/etc/caddy/sites.d/admin.caddy:# asgi.deploy sites: {"name": "admin", "domains": ["admin.example"]}']


def test_a_domain_another_app_serves_is_refused_naming_both():
    problems = caddy_site_problems([{"domains": ["shop.example", "WWW.example"]}], upstreams=["a:1"],
                                   name="shop", taken=TAKEN)
    assert problems == ["caddy_sites[0].domains: 'WWW.example' of app 'shop' is already served by app 'api' on this "
                        "edge (/etc/caddy/sites.d/api.caddy); a domain belongs to one app: remove it there first, "
                        "or choose another"]


def test_an_app_may_keep_its_own_domains():
    assert caddy_site_problems([{"domains": ["api.example"]}], upstreams=["a:1"], name="api", taken=TAKEN) == []


def test_a_line_that_is_not_a_header():
    with pytest.raises(AnsibleFilterError, match="not a sites header"):
        caddy_site_problems(GOOD, upstreams=["a:1"], name="api", taken=["/etc/caddy/sites.d/x.caddy:garbage"])
