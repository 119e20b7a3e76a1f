-- Reference data, kept as data so that the operations centre can extend it
-- (the GB/T 30428 series is being revised from 2024).
--
-- Component classes: major classes of GB/T 30428.2 (公用设施, 道路交通,
-- 市容环境, 园林绿化, 房屋土地, 其他设施) with minor classes and two-digit
-- codes as used in practice by city systems (not verified against the
-- standard's text). owner_dept is the default owner department.
INSERT INTO reg_component_classes (major, minor, name_zh, name_en, major_zh, major_en, owner_dept) VALUES
('01', '01', '上水井盖', 'Water supply manhole cover', '公用设施', 'Public facilities', 'zj'),
('01', '02', '污水井盖', 'Sewer manhole cover', '公用设施', 'Public facilities', 'zj'),
('01', '03', '雨水井盖', 'Storm drain manhole cover', '公用设施', 'Public facilities', 'zj'),
('01', '04', '雨水箅子', 'Storm drain grate', '公用设施', 'Public facilities', 'zj'),
('01', '05', '电力井盖', 'Power manhole cover', '公用设施', 'Public facilities', 'cg'),
('01', '06', '通信井盖', 'Telecom manhole cover', '公用设施', 'Public facilities', 'cg'),
('01', '07', '燃气井盖', 'Gas manhole cover', '公用设施', 'Public facilities', 'zj'),
('01', '08', '消防栓', 'Fire hydrant', '公用设施', 'Public facilities', 'yj'),
('01', '09', '路灯', 'Street lamp', '公用设施', 'Public facilities', 'cg'),
('01', '10', '变压器', 'Transformer', '公用设施', 'Public facilities', 'cg'),
('02', '01', '停车场', 'Car park', '道路交通', 'Roads and traffic', 'jt'),
('02', '02', '公交站亭', 'Bus shelter', '道路交通', 'Roads and traffic', 'jt'),
('02', '03', '交通信号灯', 'Traffic signal', '道路交通', 'Roads and traffic', 'ga'),
('02', '04', '交通标志牌', 'Traffic sign', '道路交通', 'Roads and traffic', 'jt'),
('02', '05', '护栏', 'Guard rail', '道路交通', 'Roads and traffic', 'jt'),
('02', '06', '非机动车停放点', 'Bicycle parking', '道路交通', 'Roads and traffic', 'jt'),
('03', '01', '公共厕所', 'Public toilet', '市容环境', 'City appearance', 'cg'),
('03', '02', '垃圾箱', 'Litter bin', '市容环境', 'City appearance', 'cg'),
('03', '03', '垃圾分类投放点', 'Sorted waste point', '市容环境', 'City appearance', 'cg'),
('03', '04', '广告牌匾', 'Signboard', '市容环境', 'City appearance', 'cg'),
('04', '01', '行道树', 'Street tree', '园林绿化', 'Landscaping', 'cg'),
('04', '02', '绿地', 'Green space', '园林绿化', 'Landscaping', 'cg'),
('04', '03', '古树名木', 'Heritage tree', '园林绿化', 'Landscaping', 'cg'),
('05', '01', '文物古迹', 'Heritage site', '房屋土地', 'Buildings and land', 'zj'),
('05', '02', '危房', 'Unsafe building', '房屋土地', 'Buildings and land', 'zj'),
('06', '01', '监控电子眼', 'Surveillance camera', '其他设施', 'Other facilities', 'ga'),
('06', '02', '健身设施', 'Fitness equipment', '其他设施', 'Other facilities', 'cg'),
('06', '03', '河道护栏', 'River railing', '其他设施', 'Other facilities', 'cg');

-- The authoritative department of each field (一数一源). Department codes
-- are organisations' deptType values: ga 公安, mz 民政, scjg 市场监管,
-- zj 住建, cg 城管, jd 街道办事处, sq 社区居委会.
INSERT INTO reg_authorities (kind, field, dept) VALUES
('person', '*', 'ga'),
('person', 'phone', 'jd'),
('person', 'resident', 'jd'),
('person', 'address', 'ga'),
('person', 'status', 'ga'),
('building', '*', 'zj'),
('component', '*', 'cg'),
('entity', '*', 'scjg'),
('entity', 'address', 'scjg');

-- Purposes that allow clear values of personal fields, the roles that may
-- state them, and the legal basis shown to the person concerned.
INSERT INTO reg_purposes (code, name_zh, name_en, basis, fields, roles) VALUES
('grid-visit', '网格走访', 'Grid visit', '《城乡社区网格化服务管理规范》GB/T 34300-2017', 'name,address,phone', 'grid_worker,dept_staff,dept_head'),
('case-handling', '案件处置', 'Case handling', 'GB/T 30428.8 案件处置', 'name,phone,address', 'grid_worker,dept_staff,dept_head,supervisor'),
('social-assistance', '社会救助核查', 'Social assistance check', '《社会救助暂行办法》第十一条', 'name,idNumber,phone,address', 'dept_staff,dept_head'),
('public-security', '治安管理', 'Public security', '《中华人民共和国人民警察法》第六条', 'name,idNumber,phone,address,legalRep', 'dept_head'),
('registration', '登记核验', 'Registration check', '《中华人民共和国个人信息保护法》第十三条第三项', 'name,idNumber,legalRep', 'dept_staff,dept_head');
