-- The CMDB grows up: a class hierarchy that every CI's class must belong to, and the fields that
-- operations need on a CI (lifecycle and operational status, environment, criticality, who
-- supports and owns it).

-- CI classes: a tree; a CI of class "router" is also a "network_device". Seeded below; more can
-- be added with SQL (an API to manage them is still to come).
CREATE TABLE ci_classes (
  name text PRIMARY KEY,
  parent text REFERENCES ci_classes (name),
  description text NOT NULL DEFAULT ''
);
CREATE INDEX ci_classes_parent ON ci_classes (parent);

INSERT INTO ci_classes (name, parent, description) VALUES
  ('service', NULL, 'A service delivered to users or to other services'),
  ('business_service', 'service', 'A service the business consumes (checkout, payroll)'),
  ('technical_service', 'service', 'A service IT runs for other services (DNS, SSO, messaging)'),
  ('application', NULL, 'A software product or system (billing, CRM)'),
  ('app_instance', NULL, 'A running deployment of an application'),
  ('database', NULL, 'A database or database instance'),
  ('cache', NULL, 'A cache (Redis, Memcached)'),
  ('queue', NULL, 'A message queue or broker'),
  ('host', NULL, 'A machine that runs software'),
  ('server', 'host', 'A physical server'),
  ('virtual_machine', 'host', 'A virtual machine'),
  ('container', 'host', 'A container or pod'),
  ('network_device', NULL, 'A device that carries network traffic'),
  ('router', 'network_device', 'A router'),
  ('switch', 'network_device', 'A switch'),
  ('firewall', 'network_device', 'A firewall'),
  ('load_balancer', 'network_device', 'A load balancer'),
  ('storage', NULL, 'Storage: an array, a volume, a bucket'),
  ('cluster', NULL, 'A cluster of hosts or instances');

-- CIs imported before classes were checked keep their class: it becomes a root class, so that
-- the foreign key below holds on an existing installation (and its name is not checked).
INSERT INTO ci_classes (name, description)
SELECT DISTINCT class, 'Found on existing CIs when classes were introduced'
FROM configuration_items
WHERE class NOT IN (SELECT name FROM ci_classes);
ALTER TABLE ci_classes ADD CONSTRAINT ci_classes_name_check
  CHECK (name ~ '^[a-z][a-z0-9_]{0,63}$') NOT VALID;

ALTER TABLE configuration_items
  ADD CONSTRAINT configuration_items_class_fkey FOREIGN KEY (class) REFERENCES ci_classes (name),
  ADD COLUMN description text,
  ADD COLUMN lifecycle_status text NOT NULL DEFAULT 'in_service'
    CHECK (lifecycle_status IN ('planned', 'installed', 'in_service', 'retired')),
  ADD COLUMN operational_status text NOT NULL DEFAULT 'operational'
    CHECK (operational_status IN ('operational', 'degraded', 'down', 'maintenance')),
  ADD COLUMN environment text
    CHECK (environment IN ('production', 'staging', 'test', 'development')),
  -- 1 critical, 2 high, 3 medium, 4 low.
  ADD COLUMN criticality smallint NOT NULL DEFAULT 3 CHECK (criticality BETWEEN 1 AND 4),
  ADD COLUMN support_group text,
  ADD COLUMN owner text;
CREATE INDEX configuration_items_class ON configuration_items (class);
