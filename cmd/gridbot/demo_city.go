package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"time"

	"golang.org/x/crypto/bcrypt"

	"gridbot/configs"
	"gridbot/core"
	"gridbot/wechatsim"
)

// `gridbot demo -city` runs the sample city (README: Towns as tenants): the
// two sample towns on one simulated official account, each with its own
// ledger and the same demo logins, and the city's own view with a city
// login. WeCom is not served with towns, so the city demo has none.

// cityDemoViewer is the city demo's city login.
const cityDemoViewer = "city-viewer"

// cityDemoLogins are the logins the city demo needs besides the town's.
func cityDemoLogins(on bool) []string {
	if !on {
		return nil
	}
	return []string{cityDemoViewer}
}

// cityDemoRun is what runDemo has set up when it hands over to the city.
type cityDemoRun struct {
	ln, simLn     net.Listener
	base, simBase string
	passwords     map[string]string
	history       int
	dataDir       string
	secondFactor  bool
}

// flagSet reports whether the flag name was given.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// withPasswords is town with the demo's passwords on the logins it has.
func withPasswords(town *core.Town, passwords map[string]string) (*core.Town, error) {
	t := *town
	t.Staff = append([]core.Staff(nil), town.Staff...)
	for i := range t.Staff {
		if p, ok := passwords[t.Staff[i].ID]; ok {
			hash, err := bcrypt.GenerateFromPassword([]byte(p), bcrypt.MinCost)
			if err != nil {
				return nil, err
			}
			t.Staff[i].PasswordHash = string(hash)
		}
	}
	return core.NewTown(t)
}

func runCityDemo(ctx context.Context, cfg *configs.Config, d cityDemoRun, env Env) error {
	fail := func(err error) error {
		d.ln.Close()
		d.simLn.Close()
		return err
	}
	cfg.WeCom.CorpID = ""
	shatang, err := demoTown(d.simBase+"/wecom", d.passwords)
	if err != nil {
		return fail(err)
	}
	chishui, err := configs.SampleCityTown()
	if err != nil {
		return fail(err)
	}
	if chishui, err = withPasswords(chishui, d.passwords); err != nil {
		return fail(err)
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(d.passwords[cityDemoViewer]), bcrypt.MinCost)
	if err != nil {
		return fail(err)
	}
	cfg.City.Name = "开平市（示例）"
	cfg.City.Staff = []configs.CityStaffEntry{{ID: cityDemoViewer, Name: "市级查看员", PasswordHash: string(hash)}}
	sources := []townSource{
		{entry: configs.TownEntry{Key: "shatang"}, town: shatang},
		{entry: configs.TownEntry{Key: "chishui"}, town: chishui},
	}
	for _, s := range sources {
		cfg.Towns = append(cfg.Towns, s.entry)
	}
	log := newLogger(env.Stderr, cfg.Log.Format, cfg.Log.Level)
	c, err := openCity(ctx, cfg, sources, instanceName(d.ln), log)
	if err != nil {
		return fail(err)
	}
	contacts := []wechatsim.Contact{
		{OpenID: "oresident-demo-01", Label: "居民 甲"},
		{OpenID: "oresident-demo-02", Label: "居民 乙"},
	}
	for _, pick := range []struct {
		town *core.Town
		id   string
	}{{shatang, "gl-L10-a"}, {chishui, "cs-gl-L02-a"}} {
		s := pick.town.StaffMember(pick.id)
		contacts = append(contacts, wechatsim.Contact{OpenID: s.Address(core.ChannelWeChat), Label: "网格员 " + s.Name + "（" + pick.town.Name + "）"})
	}
	sim := wechatsim.New(wechatsim.Config{Token: cfg.WeChat.Token, AppID: cfg.WeChat.AppID, AppSecret: cfg.WeChat.AppSecret,
		AESKey: cfg.WeChat.AESKey, CallbackURL: d.base + "/wechat", Contacts: contacts, Log: log,
		Templates: wechatsim.Library(), SubscribeTemplates: wechatsim.SubscribeLibrary(),
		OAuthDomains: []string{d.ln.Addr().String()}, ASRSecretID: cfg.ASR.SecretID, ASRSecretKey: cfg.ASR.SecretKey})
	simSrv := &http.Server{Handler: sim.Handler(), ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := simSrv.Serve(d.simLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("simulator", "err", err)
		}
	}()
	defer simSrv.Close()

	out := env.Stdout
	fmt.Fprintf(out, "\ngridbot demo — %s：%s、%s（一个公众号，两个镇各自办理）\n\n", c.name, shatang.Name, chishui.Name)
	fmt.Fprintf(out, "  staff console:  %s/   (登录页先选所在镇)\n", d.base)
	fmt.Fprintf(out, "  city view:      %s/city/   (市级：各镇三率合计，可下钻到村、网格)\n", d.base)
	fmt.Fprintf(out, "  resident phone: %s/   (WeChat simulator; safe mode)\n", d.simBase)
	fmt.Fprintf(out, "  data:           %s   (each town its own file under towns/)\n\n", d.dataDir)
	for _, t := range c.towns {
		fmt.Fprintf(out, "  %s:\n", t.name)
		if err := demoHistory(ctx, t.app, out, d.history); err != nil {
			c.close()
			return err
		}
	}
	fmt.Fprintf(out, "\n  logins (the same in both towns; kept in %s/%s between runs):\n", d.dataDir, demoLoginsFile)
	for _, l := range demoLogins {
		fmt.Fprintf(out, "    %-15s %-11s %s\n", l.id, d.passwords[l.id], l.what)
	}
	fmt.Fprintf(out, "    %-15s %-11s 市级查看员：%s/city/\n", cityDemoViewer, d.passwords[cityDemoViewer], d.base)
	if !d.secondFactor {
		fmt.Fprintf(out, "\n  second factor: off in the demo (serve asks for an authenticator code; demo -city -second-factor shows it)\n")
	}
	fmt.Fprintf(out, "\n  try: on the phone, a resident's first message asks for their town: reply 1 or 2, or send a location —\n")
	fmt.Fprintf(out, "  %.4f, %.4f is in %s (石桥村), %.4f, %.4f in %s (大同村). 切换镇 changes town.\n",
		demoLat, demoLng, shatang.Name, chishuiDemoLat, chishuiDemoLng, chishui.Name)
	fmt.Fprintf(out, "  Each town's console shows its own cases only; the city view adds them up.\n\n  Ctrl-C stops.\n\n")
	if env.Ready != nil {
		env.Ready(URLs{Console: d.base + "/", WeChat: d.base + "/wechat", Phone: d.simBase + "/", SimAPI: d.simBase})
	}
	front := &app{log: log, handler: c.handler(), maxConns: defaultMaxConns(), maxConnsPerAddr: cfg.HTTP.MaxConnsPerAddr,
		proxies: c.proxies}
	return c.run(ctx, front, d.ln)
}

// chishuiDemoLat, chishuiDemoLng is a point of 大同 (chishui's L02).
const chishuiDemoLat, chishuiDemoLng = 22.2900, 112.4700
