-- The public Open311 read and the indicators select by report time across
-- the whole city.
CREATE INDEX cases_created ON cases (created_at);
