package amocrmtest

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// WebhookForm encodes leads as amoCRM's outgoing webhook for action ("add", "update",
// "status"...) does: form fields with PHP-style keys, leads[add][0][id]=…, and the
// account's id and subdomain.
func (s *Server) WebhookForm(action string, leads ...Lead) url.Values {
	v := url.Values{}
	for i, l := range leads {
		p := fmt.Sprintf("leads[%s][%d]", action, i)
		v.Set(p+"[id]", strconv.FormatInt(l.ID, 10))
		v.Set(p+"[name]", l.Name)
		v.Set(p+"[status_id]", strconv.FormatInt(l.StatusID, 10))
		v.Set(p+"[pipeline_id]", strconv.FormatInt(l.PipelineID, 10))
		v.Set(p+"[price]", strconv.FormatInt(l.Price, 10))
		v.Set(p+"[responsible_user_id]", "504141")
		v.Set(p+"[created_at]", strconv.FormatInt(l.CreatedAt, 10))
		v.Set(p+"[updated_at]", strconv.FormatInt(l.UpdatedAt, 10))
		v.Set(p+"[account_id]", "29000000")
		for j, f := range l.CustomFields {
			fp := fmt.Sprintf("%s[custom_fields][%d]", p, j)
			if id, ok := f["field_id"]; ok {
				v.Set(fp+"[id]", fmt.Sprint(id))
			}
			if code, ok := f["field_code"]; ok {
				v.Set(fp+"[code]", fmt.Sprint(code))
			}
			vals, _ := f["values"].([]any)
			for k, val := range vals {
				if m, ok := val.(map[string]any); ok {
					v.Set(fmt.Sprintf("%s[values][%d][value]", fp, k), fmt.Sprint(m["value"]))
				}
			}
		}
	}
	v.Set("account[id]", "29000000")
	v.Set("account[subdomain]", s.subdomain)
	v.Set("account[_links][self]", s.URL)
	return v
}

// SendWebhook posts leads to target as amoCRM's webhook for action does, and returns
// the status the target answered. amoCRM signs nothing: a secret goes in target's URL.
func (s *Server) SendWebhook(ctx context.Context, target, action string, leads ...Lead) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, strings.NewReader(s.WebhookForm(action, leads...).Encode()))
	if err != nil {
		return 0, fmt.Errorf("build amocrm webhook: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, fmt.Errorf("send amocrm webhook: %w", err)
	}
	defer resp.Body.Close()
	return resp.StatusCode, nil
}
