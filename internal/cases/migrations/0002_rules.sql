-- Sensor (MQTT) and video-analytics alarms that open cases. Values: water
-- depth in metres, gas in %LEL, tilt in degrees; confidences 0..1.
INSERT INTO case_alarm_rules (id, source, alarm, category, min_value, min_conf, note) VALUES
('sensor-manhole-tilt', 'sensor', 'manhole-tilt', 'B0101', 15, NULL, '井盖倾角传感器：倾角 ≥ 15°'),
('sensor-manhole-open', 'sensor', 'manhole-open', 'B0102', NULL, NULL, '井盖开启传感器：任何开启告警'),
('sensor-water-level', 'sensor', 'water-level', 'E0505', 0.15, NULL, '道路积水监测：水深 ≥ 0.15 米'),
('sensor-gas', 'sensor', 'gas', 'E0503', 20, NULL, '燃气浓度：≥ 20 %LEL'),
('sensor-smoke', 'sensor', 'smoke', 'E0507', NULL, NULL, '烟感告警'),
('sensor-lamp-off', 'sensor', 'lamp-off', 'B0109', NULL, NULL, '单灯控制器：夜间不亮'),
('video-illegal-parking', 'video', 'illegal-parking', 'E0404', NULL, 0.8, '视频识别：机动车违停，置信度 ≥ 0.8'),
('video-street-vendor', 'video', 'street-vendor', 'E0401', NULL, 0.8, '视频识别：流动摊贩'),
('video-business-outside', 'video', 'business-outside', 'E0403', NULL, 0.8, '视频识别：店外经营'),
('video-exposed-garbage', 'video', 'exposed-garbage', 'E0102', NULL, 0.75, '视频识别：暴露垃圾'),
('video-spillage', 'video', 'spillage', 'E0303', NULL, 0.8, '视频识别：道路遗撒'),
('video-bicycle-clutter', 'video', 'bicycle-clutter', 'E0405', NULL, 0.8, '视频识别：非机动车乱停放');
