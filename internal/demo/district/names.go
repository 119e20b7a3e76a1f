package district

import (
	"math/rand/v2"
	"strings"
)

// surnames are common Chinese surnames, most frequent first (roughly the
// national ranking, with the Suzhou-frequent 陆, 顾, 沈, 钱 included).
var surnames = []rune("王李张刘陈杨黄赵吴周徐孙马朱胡郭何林高罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾毛郝龚邵万钱严武戴莫孔汤")

// givenChars are characters common in given names.
var givenChars = []rune("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍鹏辉建红文斌宇浩凯俊峰晨阳欣怡佳琪雪梅婷颖慧晶倩蕾琳丹宁燕瑞博睿泽轩子涵梓萱思雨诗嘉一诺昊然浩宇紫妍心语晓东海波志国庆春秋云飞亮健鑫磊新蓉")

// surnameCum holds cumulative weights 1/(rank+4), so the most common
// surnames dominate without the long tail vanishing.
var surnameCum = func() []float64 {
	cum := make([]float64, len(surnames))
	t := 0.0
	for i := range surnames {
		t += 1 / float64(i+4)
		cum[i] = t
	}
	return cum
}()

// Names returns n plausible Chinese personal names (a common surname and a
// one- or two-character given name; about 1 in 7 given names has one
// character). The list depends only on seed and n, and a longer list starts
// with the shorter one; names may repeat, as real names do. n <= 0 gives nil.
func Names(seed int64, n int) []string {
	if n <= 0 {
		return nil
	}
	rng := rand.New(rand.NewPCG(uint64(seed), 0x4e414d45))
	out := make([]string, n)
	var b strings.Builder
	for i := range out {
		b.Reset()
		x := rng.Float64() * surnameCum[len(surnameCum)-1]
		k := 0
		for k < len(surnameCum)-1 && surnameCum[k] < x {
			k++
		}
		b.WriteRune(surnames[k])
		b.WriteRune(givenChars[rng.IntN(len(givenChars))])
		if rng.IntN(7) != 0 {
			c := givenChars[rng.IntN(len(givenChars))]
			b.WriteRune(c)
		}
		out[i] = b.String()
	}
	return out
}
