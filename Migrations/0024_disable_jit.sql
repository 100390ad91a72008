-- JIT compilation off for every session of this database. PostgreSQL compiles a statement with LLVM when its
-- estimated cost passes `jit_above_cost`; the job claim's estimate does once a queue holds tens of thousands of
-- waiting jobs (its per-tenant LIMIT is a subquery the planner cannot size), and the compile then costs ~360 ms
-- on every claim against a 9 ms execution: `bench fanout` fell from 4,300 to 500 deliveries/s at 100,000 queued
-- deliveries. Switchyard's statements are short OLTP statements that JIT never pays back.
DO $$
BEGIN
    EXECUTE format('ALTER DATABASE %I SET jit = off', current_database());
END
$$;
