//! `scimbus config check`.

use scimbus_runtime::token_hash;

use crate::support::*;

#[test]
fn config_check_reports_tenants_or_the_precise_error() {
    let hash = scimbus_runtime::secret::to_hex(&token_hash("abc"));
    let good = TempFile::new(&format!(
        "[[tenants]]\nname = \"demo\"\ntokens = [\"sha256:{hash}\", \"env:PATH\"]\n\n[[tenants]]\nname = \"demo2\"\n"
    ));
    let s = scimbus_cli::check_config(good.path()).unwrap();
    assert_eq!(
        s.tenants,
        [("demo".to_string(), 2), ("demo2".to_string(), 0)]
    );
    let o = scimbus_on("", &["config", "check", "--config", good.path()]);
    assert_exit(&o, 0);
    assert!(
        stdout(&o).starts_with(&format!("{}: ok, 2 tenant(s)", good.path())),
        "{}",
        stdout(&o)
    );
    assert!(
        stdout(&o).contains("demo: 2 configured token(s)"),
        "{}",
        stdout(&o)
    );

    // Each bad file is refused with what is wrong and where.
    let cases = [
        (
            "[[tenants]]\nname = \"a\"\ntoken = []\n",
            "unknown field `token`",
        ),
        ("[[tenants]]\nname = \"Not Valid\"\n", "Not Valid"),
        (
            "[[tenants]]\nname = \"a\"\n[[tenants]]\nname = \"a\"\n",
            "declared twice",
        ),
        (
            "[[tenants]]\nname = \"a\"\ntokens = [\"inline-secret\"]\n",
            "tenants.a.tokens[0]",
        ),
        (
            "[[tenants]]\nname = \"a\"\ntokens = [\"env:SCIMBUS_CLI_TEST_SURELY_UNSET\"]\n",
            "SCIMBUS_CLI_TEST_SURELY_UNSET is not set",
        ),
        ("[[tenants]\n", "TOML"),
        (
            "[[tenants]]\nname = \"a\"\n[[tenants.hr_sources]]\nname = \"hr\"\n\
             [tenants.hr_sources.auth]\nscheme = \"hmac\"\nheader = \"X-Sig\"\n\
             secrets = [\"env:SCIMBUS_CLI_TEST_SURELY_UNSET_HR\"]\n\
             [tenants.hr_sources.mapping]\nemployee_id = \"event.id\"\nkind = \"'hire'\"\n",
            "HR source \"hr\": secret env:SCIMBUS_CLI_TEST_SURELY_UNSET_HR",
        ),
    ];
    for (text, want) in cases {
        let bad = TempFile::new(text);
        let err = scimbus_cli::check_config(bad.path())
            .unwrap_err()
            .to_string();
        assert!(err.starts_with(bad.path()), "names the file: {err}");
        let o = scimbus_on("", &["config", "check", "--config", bad.path()]);
        assert_exit(&o, 1);
        let e = stderr(&o);
        assert!(
            e.contains(bad.path()) && e.contains(want),
            "{want:?} in {e}"
        );
        assert!(stdout(&o).is_empty());
    }
    let o = scimbus_on(
        "",
        &["config", "check", "--config", "/nonexistent/scimbus.toml"],
    );
    assert_exit(&o, 1);
    assert!(
        stderr(&o).contains("/nonexistent/scimbus.toml"),
        "{}",
        stderr(&o)
    );
    // No file at all is a usage error.
    let o = scimbus_on("", &["config", "check"]);
    assert_exit(&o, 2);
}
