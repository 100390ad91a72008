/// Read from the process environment where a private PostgreSQL is started (`dev`, `bench`, the tests).
extension SwitchyardSettings {
    public static let postgresBin = TextSetting(
        "SWITCHYARD_POSTGRES_BIN",
        unset: "the newest `/usr/lib/postgresql/N/bin`, else `initdb` on the `PATH`",
        accepts: "a directory holding `initdb` and `pg_ctl`",
        "where `dev` finds the PostgreSQL server binaries"
    )
    public static let noInstall = TextSetting(
        "SWITCHYARD_NO_INSTALL",
        unset: "a missing PostgreSQL is installed with apt-get (as root, on Debian)",
        accepts: "any value",
        "when set, `dev` does not install PostgreSQL"
    )
}
