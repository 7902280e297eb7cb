// Compat runs the compatibility scenario (see ../README.md) with pgJDBC
// against a pgfed coordinator and prints one line per step:
// STEP <name> PASS|FAIL|SKIP <detail>.
//
// Connection parameters come from PGHOST, PGPORT, PGUSER, PGPASSWORD,
// PGDATABASE; COMPAT_SSLMODE (default require) is the main session's sslmode.
// Compiled with javac at run time against Debian's libpostgresql-jdbc-java.

import java.io.ByteArrayOutputStream;
import java.io.StringReader;
import java.math.BigDecimal;
import java.sql.Array;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.Arrays;
import java.util.Objects;
import java.util.Properties;
import java.util.UUID;

import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.postgresql.copy.CopyManager;

public class Compat {
    static final String CLIENT = "jdbc";
    static final String DIST = "compat_" + CLIENT + "_dist", REF = "compat_" + CLIENT + "_ref", CH = "compat_" + CLIENT;
    static final String SSLMODE = env("COMPAT_SSLMODE", "require");
    static boolean failed;
    static Connection conn;

    interface Step {
        void run() throws Exception;
    }

    static String env(String k, String def) {
        String v = System.getenv(k);
        return v == null || v.isEmpty() ? def : v;
    }

    static Connection connect(String sslmode) throws SQLException {
        String url = "jdbc:postgresql://" + env("PGHOST", "127.0.0.1") + ":" + env("PGPORT", "6432") + "/" + env("PGDATABASE", "postgres");
        Properties p = new Properties();
        p.setProperty("user", env("PGUSER", "postgres"));
        p.setProperty("password", env("PGPASSWORD", ""));
        p.setProperty("sslmode", sslmode);
        p.setProperty("connectTimeout", "10");
        p.setProperty("socketTimeout", "60");
        return DriverManager.getConnection(url, p);
    }

    static void step(String name, Step s) {
        try {
            s.run();
            System.out.println("STEP " + name + " PASS");
        } catch (Throwable e) {
            failed = true;
            String state = e instanceof SQLException ? " (SQLSTATE " + ((SQLException) e).getSQLState() + ")" : "";
            System.out.println("STEP " + name + " FAIL " + (e.getClass().getSimpleName() + ": " + e.getMessage()).replaceAll("\\s+", " ") + state);
        }
        System.out.flush();
    }

    static void expect(String what, Object got, Object want) {
        if (!Objects.equals(got, want)) {
            throw new AssertionError(what + ": got " + got + ", want " + want);
        }
    }

    static void expectState(String what, Step s, String state) throws Exception {
        try {
            s.run();
        } catch (SQLException e) {
            expect(what + " SQLSTATE (" + e.getMessage() + ")", e.getSQLState(), state);
            return;
        }
        throw new AssertionError(what + " succeeded, want SQLSTATE " + state);
    }

    static long scalar(String sql) throws SQLException {
        try (Statement st = conn.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    static void exec(String sql) throws SQLException {
        try (Statement st = conn.createStatement()) {
            st.execute(sql);
        }
    }

    // citus runs a Citus API call as pgJDBC does by default (the extended
    // protocol, even for a Statement); when that fails it tries again with
    // preferQueryMode=simple, so that the later steps still run against a
    // distributed table, and reports both.
    static void citus(String sql) throws Exception {
        try {
            exec(sql);
        } catch (SQLException e) {
            Properties p = new Properties();
            String url = "jdbc:postgresql://" + env("PGHOST", "127.0.0.1") + ":" + env("PGPORT", "6432") + "/" + env("PGDATABASE", "postgres");
            p.setProperty("user", env("PGUSER", "postgres"));
            p.setProperty("password", env("PGPASSWORD", ""));
            p.setProperty("sslmode", SSLMODE);
            p.setProperty("preferQueryMode", "simple");
            try (Connection c = DriverManager.getConnection(url, p); Statement st = c.createStatement()) {
                st.execute(sql);
            } catch (SQLException e2) {
                throw new SQLException(e.getMessage() + "; with preferQueryMode=simple: " + e2.getMessage(), e.getSQLState());
            }
            throw new SQLException(e.getMessage() + " (with preferQueryMode=simple it worked: later steps use the distributed table)", e.getSQLState());
        }
    }

    public static void main(String[] args) throws Exception {
        step("connect_tls_scram", () -> conn = connect(SSLMODE));
        step("connect_plain", () -> {
            try (Connection c = connect("disable"); Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT 1")) {
                rs.next();
                expect("SELECT 1", rs.getInt(1), 1);
            }
        });
        if (conn == null) {
            System.out.println("STEP rest FAIL no TLS connection, remaining steps not run");
            System.exit(1);
        }
        step("create_tables", () -> {
            exec("DROP TABLE IF EXISTS " + DIST + ", " + REF);
            exec("CREATE TABLE " + DIST + " (id int PRIMARY KEY, v text, n int DEFAULT 0, b bytea, num numeric, ts timestamptz, u uuid, j jsonb, ia int[], ta text[])");
            exec("CREATE TABLE " + REF + " (id int PRIMARY KEY, name text)");
        });
        step("create_distributed_table", () -> {
            // setString binds varchar, which has no cast to regclass (as on
            // Citus): the table name goes in the text of the statement.
            citus("SELECT create_distributed_table('" + DIST + "', 'id')");
        });
        step("create_reference_table", () -> {
            citus("SELECT create_reference_table('" + REF + "')");
        });
        step("insert_select_single", () -> {
            try (PreparedStatement ps = conn.prepareStatement("INSERT INTO " + DIST + " (id, v) VALUES (?, ?)")) {
                ps.setInt(1, 1);
                ps.setString(2, "one");
                expect("inserted", ps.executeUpdate(), 1);
            }
            try (PreparedStatement ps = conn.prepareStatement("SELECT v FROM " + DIST + " WHERE id = ?")) {
                ps.setInt(1, 1);
                try (ResultSet rs = ps.executeQuery()) {
                    expect("row", rs.next(), true);
                    expect("v", rs.getString(1), "one");
                }
            }
        });
        step("multirow_insert", () -> {
            StringBuilder sb = new StringBuilder("INSERT INTO " + DIST + " (id, v) VALUES ");
            for (int i = 2; i <= 11; i++) {
                sb.append(i > 2 ? ", " : "").append("(").append(i).append(", 'r").append(i).append("')");
            }
            try (Statement st = conn.createStatement()) {
                expect("dist rows", st.executeUpdate(sb.toString()), 10);
            }
            // A JDBC batch: Bind/Execute for each row, one Sync.
            try (PreparedStatement ps = conn.prepareStatement("INSERT INTO " + REF + " VALUES (?, ?)")) {
                String[] names = {"a", "b", "c"};
                for (int i = 0; i < 3; i++) {
                    ps.setInt(1, i + 1);
                    ps.setString(2, names[i]);
                    ps.addBatch();
                }
                expect("ref batch", Arrays.toString(ps.executeBatch()), "[1, 1, 1]");
            }
        });
        step("tx_cross_shard_update", () -> {
            conn.setAutoCommit(false);
            try (Statement st = conn.createStatement()) {
                expect("updated", st.executeUpdate("UPDATE " + DIST + " SET n = n + 1 WHERE id BETWEEN 1 AND 11"), 11);
                conn.commit();
            } finally {
                conn.rollback();
                conn.setAutoCommit(true);
            }
            expect("sum(n)", scalar("SELECT sum(n) FROM " + DIST + " WHERE id BETWEEN 1 AND 11"), 11L);
        });
        step("tx_error_rollback", () -> {
            conn.setAutoCommit(false);
            try {
                exec("INSERT INTO " + DIST + " (id, v) VALUES (20, 'tx')");
                expectState("SELECT 1/0", () -> scalar("SELECT 1/0"), "22012");
                expectState("SELECT 1 in failed transaction", () -> scalar("SELECT 1"), "25P02");
                conn.rollback();
            } finally {
                conn.setAutoCommit(true);
            }
            expect("rows with id 20 after ROLLBACK", scalar("SELECT count(*) FROM " + DIST + " WHERE id = 20"), 0L);
        });
        step("prepared_reuse", () -> {
            // pgJDBC switches to a named server-side statement after prepareThreshold (5) executions.
            try (PreparedStatement ps = conn.prepareStatement("SELECT v FROM " + DIST + " WHERE id = ?")) {
                for (int i = 1; i <= 10; i++) {
                    ps.setInt(1, i);
                    try (ResultSet rs = ps.executeQuery()) {
                        expect("row " + i, rs.next(), true);
                        expect("v of id " + i + " (execution " + i + ")", rs.getString(1), i == 1 ? "one" : "r" + i);
                    }
                }
            }
        });
        step("copy_in", () -> {
            StringBuilder sb = new StringBuilder();
            for (int i = 1001; i <= 3000; i++) {
                sb.append(i).append("\tc").append(i).append("\n");
            }
            CopyManager cm = conn.unwrap(PGConnection.class).getCopyAPI();
            expect("copied rows", cm.copyIn("COPY " + DIST + " (id, v) FROM STDIN", new StringReader(sb.toString())), 2000L);
        });
        step("copy_out", () -> {
            CopyManager cm = conn.unwrap(PGConnection.class).getCopyAPI();
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            cm.copyOut("COPY " + DIST + " (id, v) TO STDOUT", out);
            long n = 0;
            for (String line : out.toString("UTF-8").split("\n")) {
                if (line.isEmpty()) {
                    continue;
                }
                n++;
                String[] f = line.split("\t");
                int id = Integer.parseInt(f[0]);
                if (id >= 1001 && id <= 3000) {
                    expect("line", f[1], "c" + f[0]);
                }
            }
            expect("lines = count(*)", n, scalar("SELECT count(*) FROM " + DIST));
            if (n < 11) {
                throw new AssertionError("only " + n + " lines");
            }
        });
        step("fetch_cursor", () -> {
            // setFetchSize inside a transaction: Execute with a row limit of
            // 100, answered by PortalSuspended, then Execute again.
            StringBuilder sb = new StringBuilder("INSERT INTO " + DIST + " (id, v) VALUES ");
            for (int i = 5001; i <= 7000; i++) {
                sb.append(i > 5001 ? ", " : "").append("(").append(i).append(", 'f").append(i).append("')");
            }
            exec(sb.toString());
            conn.setAutoCommit(false);
            long rows = 0, sum = 0;
            try (PreparedStatement ps = conn.prepareStatement("SELECT id, v FROM " + DIST + " WHERE id BETWEEN ? AND ?")) {
                ps.setFetchSize(100);
                ps.setInt(1, 5001);
                ps.setInt(2, 7000);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        rows++;
                        sum += rs.getInt(1);
                    }
                }
                // A result set closed half read: pgJDBC closes the suspended
                // portal (Close, Sync) and the transaction goes on.
                try (ResultSet rs = ps.executeQuery()) {
                    for (int i = 0; i < 150; i++) {
                        expect("row " + i + " of the half-read result", rs.next(), true);
                    }
                }
                expect("count(*) after closing a suspended portal", scalar("SELECT count(*) FROM " + DIST + " WHERE id BETWEEN 5001 AND 7000"), 2000L);
                conn.commit();
            } finally {
                conn.rollback();
                conn.setAutoCommit(true);
            }
            expect("rows", rows, 2000L);
            expect("sum of ids", sum, (5001L + 7000L) * 2000L / 2);
        });
        step("types_roundtrip", () -> {
            byte[] b = {0, (byte) 0xff, 0, (byte) 0xde, (byte) 0xad, (byte) 0xbe, (byte) 0xef, '\\'};
            BigDecimal num = new BigDecimal("12345678901234567890.123456789");
            OffsetDateTime ts = OffsetDateTime.of(2024, 2, 29, 12, 34, 56, 789012000, ZoneOffset.UTC);
            UUID u = UUID.fromString("6f1e0d6c-1b3a-4e1a-9f0e-442b8cd17a90");
            String j = "{\"a\": [1, 2, {\"b\": null}], \"c\": \"ü\"}";
            Integer[] ia = {1, null, 3};
            String[] ta = {"a", "b c", null, "ü\"\\"};
            try (PreparedStatement ps = conn.prepareStatement("INSERT INTO " + DIST + " (id, v, b, num, ts, u, j, ia, ta) VALUES (500, ?, ?, ?, ?, ?, ?, ?, ?)")) {
                ps.setNull(1, Types.VARCHAR);
                ps.setBytes(2, b);
                ps.setBigDecimal(3, num);
                ps.setObject(4, ts);
                ps.setObject(5, u);
                ps.setObject(6, j, Types.OTHER);
                ps.setArray(7, conn.createArrayOf("int4", ia));
                ps.setArray(8, conn.createArrayOf("text", ta));
                ps.executeUpdate();
            }
            try (PreparedStatement ps = conn.prepareStatement("SELECT v, b, num, ts, u, j::text, ia, ta FROM " + DIST + " WHERE id = 500");
                 ResultSet rs = ps.executeQuery()) {
                expect("row", rs.next(), true);
                expect("NULL", rs.getString(1), null);
                expect("bytea", Arrays.toString(rs.getBytes(2)), Arrays.toString(b));
                expect("numeric", rs.getBigDecimal(3), num);
                expect("timestamptz", rs.getObject(4, OffsetDateTime.class).toInstant(), ts.toInstant());
                expect("uuid", rs.getObject(5), u);
                expect("jsonb", rs.getString(6), j);
                Array a = rs.getArray(7);
                expect("int[]", Arrays.toString((Object[]) a.getArray()), Arrays.toString(ia));
                a = rs.getArray(8);
                expect("text[]", Arrays.toString((Object[]) a.getArray()), Arrays.toString(ta));
            }
        });
        step("cancel", () -> {
            try (Statement st = conn.createStatement()) {
                Thread t = new Thread(() -> {
                    try {
                        Thread.sleep(1000);
                        st.cancel(); // a CancelRequest on a new connection
                    } catch (Exception e) {
                        System.err.println("cancel: " + e);
                    }
                });
                t.start();
                long start = System.nanoTime();
                try {
                    st.executeQuery("SELECT pg_sleep(30) FROM " + DIST + " WHERE id = 1");
                    throw new AssertionError("pg_sleep(30) was not cancelled");
                } catch (SQLException e) {
                    double el = (System.nanoTime() - start) / 1e9;
                    expect("SQLSTATE (" + e.getMessage() + ", after " + el + "s)", e.getSQLState(), "57014");
                    if (el > 6) {
                        throw new AssertionError("cancelled only after " + el + "s");
                    }
                }
                t.join();
            }
            expect("SELECT 1 after cancel", scalar("SELECT 1"), 1L);
        });
        step("listen_notify", () -> {
            try (Connection lc = connect(SSLMODE)) {
                try (Statement st = lc.createStatement()) {
                    st.execute("LISTEN " + CH);
                }
                Thread.sleep(200);
                try (PreparedStatement ps = conn.prepareStatement("SELECT pg_notify(?, 'hello')")) {
                    ps.setString(1, CH);
                    ps.execute();
                }
                // getNotifications(timeout) blocks reading the idle connection.
                PGNotification[] ns = lc.unwrap(PGConnection.class).getNotifications(5000);
                if (ns == null || ns.length == 0) {
                    throw new AssertionError("no notification within 5s");
                }
                expect("notification", ns[0].getName() + " " + ns[0].getParameter(), CH + " hello");
            }
        });
        step("deallocate_discard", () -> {
            // pgJDBC notices DEALLOCATE ALL and DISCARD ALL in the command
            // tag and prepares its named statements again.
            try (PreparedStatement ps = conn.prepareStatement("SELECT v FROM " + DIST + " WHERE id = ?")) {
                for (String sql : new String[] {null, "DEALLOCATE ALL", "DISCARD ALL"}) {
                    if (sql != null) {
                        exec(sql);
                    }
                    for (int i = 1; i <= 7; i++) {
                        ps.setInt(1, i);
                        try (ResultSet rs = ps.executeQuery()) {
                            expect("row", rs.next(), true);
                            expect("v of id " + i + (sql == null ? "" : " after " + sql), rs.getString(1), i == 1 ? "one" : "r" + i);
                        }
                    }
                }
            }
            expect("SELECT 1", scalar("SELECT 1"), 1L);
        });
        conn.close();
        System.exit(failed ? 1 : 0);
    }
}
