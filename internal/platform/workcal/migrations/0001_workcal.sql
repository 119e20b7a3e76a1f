-- The working-day calendar (工作日历): the days of each year's State
-- Council holiday notice (public holidays, and weekend days that are working
-- days: 调休), the years whose notice is entered, and the working hours of a
-- working day. Dates are YYYY-MM-DD text (they sort as dates); times are
-- BIGINT Unix milliseconds; updated_by is the account that last changed the
-- row ('seed' for the rows below).

CREATE TABLE workcal_years (
    year       INTEGER PRIMARY KEY,
    notice     TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE workcal_days (
    date       TEXT PRIMARY KEY,
    kind       TEXT NOT NULL,
    name       TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE workcal_windows (
    seq        INTEGER PRIMARY KEY,
    start_min  INTEGER NOT NULL,
    end_min    INTEGER NOT NULL,
    updated_by TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- Working hours: 09:00-12:00 and 13:30-17:30.
INSERT INTO workcal_windows (seq, start_min, end_min, updated_by, updated_at) VALUES
(1, 540, 720, 'seed', 0),
(2, 810, 1050, 'seed', 0);

-- The years whose notice is entered.
INSERT INTO workcal_years (year, notice, updated_by, updated_at) VALUES
(2025, '国务院办公厅关于2025年部分节假日安排的通知（2024年11月12日）', 'seed', 0),
(2026, '国务院办公厅关于2026年部分节假日安排的通知（2025年11月4日）', 'seed', 0);

-- 2025: 国务院办公厅关于2025年部分节假日安排的通知 (2024-11-12).
INSERT INTO workcal_days (date, kind, name, updated_by, updated_at) VALUES
('2025-01-01', 'holiday', '元旦', 'seed', 0),
('2025-01-26', 'workday', '春节调休', 'seed', 0),
('2025-01-28', 'holiday', '春节', 'seed', 0),
('2025-01-29', 'holiday', '春节', 'seed', 0),
('2025-01-30', 'holiday', '春节', 'seed', 0),
('2025-01-31', 'holiday', '春节', 'seed', 0),
('2025-02-01', 'holiday', '春节', 'seed', 0),
('2025-02-02', 'holiday', '春节', 'seed', 0),
('2025-02-03', 'holiday', '春节', 'seed', 0),
('2025-02-04', 'holiday', '春节', 'seed', 0),
('2025-02-08', 'workday', '春节调休', 'seed', 0),
('2025-04-04', 'holiday', '清明节', 'seed', 0),
('2025-04-05', 'holiday', '清明节', 'seed', 0),
('2025-04-06', 'holiday', '清明节', 'seed', 0),
('2025-04-27', 'workday', '劳动节调休', 'seed', 0),
('2025-05-01', 'holiday', '劳动节', 'seed', 0),
('2025-05-02', 'holiday', '劳动节', 'seed', 0),
('2025-05-03', 'holiday', '劳动节', 'seed', 0),
('2025-05-04', 'holiday', '劳动节', 'seed', 0),
('2025-05-05', 'holiday', '劳动节', 'seed', 0),
('2025-05-31', 'holiday', '端午节', 'seed', 0),
('2025-06-01', 'holiday', '端午节', 'seed', 0),
('2025-06-02', 'holiday', '端午节', 'seed', 0),
('2025-09-28', 'workday', '国庆节调休', 'seed', 0),
('2025-10-01', 'holiday', '国庆节、中秋节', 'seed', 0),
('2025-10-02', 'holiday', '国庆节、中秋节', 'seed', 0),
('2025-10-03', 'holiday', '国庆节、中秋节', 'seed', 0),
('2025-10-04', 'holiday', '国庆节、中秋节', 'seed', 0),
('2025-10-05', 'holiday', '国庆节、中秋节', 'seed', 0),
('2025-10-06', 'holiday', '国庆节、中秋节', 'seed', 0),
('2025-10-07', 'holiday', '国庆节、中秋节', 'seed', 0),
('2025-10-08', 'holiday', '国庆节、中秋节', 'seed', 0),
('2025-10-11', 'workday', '国庆节调休', 'seed', 0);

-- 2026: 国务院办公厅关于2026年部分节假日安排的通知 (2025-11-04).
INSERT INTO workcal_days (date, kind, name, updated_by, updated_at) VALUES
('2026-01-01', 'holiday', '元旦', 'seed', 0),
('2026-01-02', 'holiday', '元旦', 'seed', 0),
('2026-01-03', 'holiday', '元旦', 'seed', 0),
('2026-01-04', 'workday', '元旦调休', 'seed', 0),
('2026-02-14', 'workday', '春节调休', 'seed', 0),
('2026-02-15', 'holiday', '春节', 'seed', 0),
('2026-02-16', 'holiday', '春节', 'seed', 0),
('2026-02-17', 'holiday', '春节', 'seed', 0),
('2026-02-18', 'holiday', '春节', 'seed', 0),
('2026-02-19', 'holiday', '春节', 'seed', 0),
('2026-02-20', 'holiday', '春节', 'seed', 0),
('2026-02-21', 'holiday', '春节', 'seed', 0),
('2026-02-22', 'holiday', '春节', 'seed', 0),
('2026-02-23', 'holiday', '春节', 'seed', 0),
('2026-02-28', 'workday', '春节调休', 'seed', 0),
('2026-04-04', 'holiday', '清明节', 'seed', 0),
('2026-04-05', 'holiday', '清明节', 'seed', 0),
('2026-04-06', 'holiday', '清明节', 'seed', 0),
('2026-05-01', 'holiday', '劳动节', 'seed', 0),
('2026-05-02', 'holiday', '劳动节', 'seed', 0),
('2026-05-03', 'holiday', '劳动节', 'seed', 0),
('2026-05-04', 'holiday', '劳动节', 'seed', 0),
('2026-05-05', 'holiday', '劳动节', 'seed', 0),
('2026-05-09', 'workday', '劳动节调休', 'seed', 0),
('2026-06-19', 'holiday', '端午节', 'seed', 0),
('2026-06-20', 'holiday', '端午节', 'seed', 0),
('2026-06-21', 'holiday', '端午节', 'seed', 0),
('2026-09-20', 'workday', '中秋节调休', 'seed', 0),
('2026-09-25', 'holiday', '中秋节', 'seed', 0),
('2026-09-26', 'holiday', '中秋节', 'seed', 0),
('2026-09-27', 'holiday', '中秋节', 'seed', 0),
('2026-10-01', 'holiday', '国庆节', 'seed', 0),
('2026-10-02', 'holiday', '国庆节', 'seed', 0),
('2026-10-03', 'holiday', '国庆节', 'seed', 0),
('2026-10-04', 'holiday', '国庆节', 'seed', 0),
('2026-10-05', 'holiday', '国庆节', 'seed', 0),
('2026-10-06', 'holiday', '国庆节', 'seed', 0),
('2026-10-07', 'holiday', '国庆节', 'seed', 0),
('2026-10-10', 'workday', '国庆节调休', 'seed', 0);
