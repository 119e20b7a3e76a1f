package district

// Department is one demo government department. NameZh is the generic
// district-level name; the seeder prefixes the district name
// ("姑苏区" + "公安局"). Code is a stable ASCII key, usable as an
// organisation's deptType.
type Department struct {
	Code    string `json:"code"`
	ShortZh string `json:"shortZh"` // usual short form: 公安, 民政, ...
	NameZh  string `json:"nameZh"`
	NameEn  string `json:"nameEn"`
}

// Departments lists the demo departments in a stable order.
var Departments = []Department{
	{Code: "ga", ShortZh: "公安", NameZh: "公安局", NameEn: "Public Security Bureau"},
	{Code: "mz", ShortZh: "民政", NameZh: "民政局", NameEn: "Civil Affairs Bureau"},
	{Code: "rs", ShortZh: "人社", NameZh: "人力资源和社会保障局", NameEn: "Human Resources and Social Security Bureau"},
	{Code: "wj", ShortZh: "卫健", NameZh: "卫生健康委员会", NameEn: "Health Commission"},
	{Code: "scjg", ShortZh: "市场监管", NameZh: "市场监督管理局", NameEn: "Market Supervision and Administration Bureau"},
	{Code: "cg", ShortZh: "城管", NameZh: "城市管理局", NameEn: "Urban Management Bureau"},
	{Code: "zj", ShortZh: "住建", NameZh: "住房和城乡建设局", NameEn: "Housing and Urban-Rural Development Bureau"},
	{Code: "jt", ShortZh: "交通", NameZh: "交通运输局", NameEn: "Transport Bureau"},
	{Code: "yj", ShortZh: "应急", NameZh: "应急管理局", NameEn: "Emergency Management Bureau"},
	{Code: "cz", ShortZh: "财政", NameZh: "财政局", NameEn: "Finance Bureau"},
	{Code: "sw", ShortZh: "税务", NameZh: "税务局", NameEn: "Taxation Bureau"},
	{Code: "sj", ShortZh: "数据局", NameZh: "数据局", NameEn: "Data Bureau"},
	{Code: "cyzx", ShortZh: "城运中心", NameZh: "城市运行管理中心", NameEn: "City Operations Center"},
}

// DepartmentByCode returns the department with the given code.
func DepartmentByCode(code string) (Department, bool) {
	for _, d := range Departments {
		if d.Code == code {
			return d, true
		}
	}
	return Department{}, false
}
